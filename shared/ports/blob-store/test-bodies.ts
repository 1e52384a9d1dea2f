import { createHash, randomBytes } from 'node:crypto';
import type { BlobInfo } from './blob-store.ts';

/** Test bodies for the blob store suites: streams that are made, checked and broken on cue. */

export const bytes = (text: string) => new TextEncoder().encode(text);

/** A stream of the given chunks, handed out one per pull as a network body would. */
export function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

/**
 * A stream that yields `before` bytes, then fails with `Error('source failed')` whose `code`
 * is `ECONNRESET`, as a request body does when its client hangs up.
 */
export function failingStream(before: number, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= before) {
        controller.error(Object.assign(new Error('source failed'), { code: 'ECONNRESET' }));
        return;
      }
      const size = Math.min(chunkSize, before - sent);
      sent += size;
      controller.enqueue(randomBytes(size));
    },
  });
}

/**
 * A stream of `size` random bytes made chunk by chunk as it is read (so it is never held
 * whole here either); `sha256()` gives their hash once the stream has been read to the end.
 */
export function generatedStream(size: number, chunkSize = 256 * 1024) {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) {
        controller.close();
        return;
      }
      const chunk = randomBytes(Math.min(chunkSize, size - sent));
      hash.update(chunk);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return {
    stream,
    sha256: () => {
      if (sent !== size) throw new Error(`stream read ${sent} of ${size} bytes`);
      return hash.digest('hex');
    },
  };
}

/** The chunks of a stream as an async iterable (the DOM typings do not declare one). */
export async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Hashes a stream as it arrives; reports the chunk count and the largest chunk too. */
export async function digestStream(stream: ReadableStream<Uint8Array>) {
  const hash = createHash('sha256');
  let size = 0;
  let chunks = 0;
  let largest = 0;
  for await (const chunk of chunksOf(stream)) {
    hash.update(chunk);
    size += chunk.byteLength;
    chunks++;
    largest = Math.max(largest, chunk.byteLength);
  }
  return { sha256: hash.digest('hex'), size, chunks, largest };
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder().decode(await readAll(stream));
}

/** Every blob a listing yields; calling `list` inside makes a synchronous throw a rejection. */
export async function listAll(list: () => AsyncIterable<BlobInfo>): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of list()) out.push(info);
  return out;
}

/** 0, 1, 2, … 255, 0, 1, … — a body where every byte says where it sits. */
export function counting(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => i % 256);
}
