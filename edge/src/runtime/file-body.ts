import { open } from 'node:fs/promises';
import { fileStream } from '@aex/shared/ports/blob-store/disk-stream';

/** Bytes `start` to `end` of a file, both inclusive (as in `Content-Range`). */
export interface ByteRange {
  start: number;
  end: number;
}

interface BunFile {
  file(path: string): Blob;
}

/**
 * A response body for a file on disk, or for one range of it. On Bun, `Bun.file` lets the
 * server use sendfile(2); elsewhere (Deno) the file is opened here and streamed in chunks,
 * so a file that cannot be opened fails now, while the handler can still answer 404.
 */
export async function fileBody(path: string, range?: ByteRange): Promise<BodyInit> {
  const bun = (globalThis as { Bun?: BunFile }).Bun;
  if (bun) {
    const file = bun.file(path);
    return range ? file.slice(range.start, range.end + 1) : file;
  }
  const handle = await open(path, 'r');
  try {
    const end = range ? range.end + 1 : (await handle.stat()).size;
    return fileStream(handle, range?.start ?? 0, end);
  } catch (err) {
    await handle.close();
    throw err;
  }
}
