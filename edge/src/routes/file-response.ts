import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

/**
 * A response body for a file on disk. On Bun, `Bun.file` lets the server use sendfile; other
 * runtimes (Deno) get a stream.
 */
export function fileBody(path: string): BodyInit {
  const bun = (globalThis as { Bun?: { file(path: string): Blob } }).Bun;
  if (bun) return bun.file(path);
  return Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
}
