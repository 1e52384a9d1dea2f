import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from '@aex/shared';

const SPOOL_WRITE_BYTES = 1024 * 1024;

/** An upload written to a temporary file, with its size and sha256 computed on the way. */
export interface SpooledUpload {
  path: string;
  size: number;
  sha256: string;
  /** Deletes the temporary file; safe to call twice. */
  discard(): Promise<void>;
}

/** The body grew past the limit; reading stopped there. */
export class UploadTooLargeError extends Error {
  override name = 'UploadTooLargeError';
  constructor(readonly limit: number) {
    super(`the upload is larger than ${limit} bytes`);
  }
}

/**
 * Streams a request body to a temporary file while hashing it, so an upload never sits
 * whole in memory and the content address is known before anything is stored. Stops
 * reading, and deletes the partial file, as soon as the body passes `maxBytes`.
 */
export async function spoolUpload(
  body: ReadableStream<Uint8Array> | null,
  options: { dir: string; maxBytes: number },
): Promise<SpooledUpload> {
  await mkdir(options.dir, { recursive: true });
  const path = join(options.dir, `upload-${newId()}`);
  const discard = () => rm(path, { force: true });
  const hash = createHash('sha256');
  const file = await open(path, 'wx');
  let size = 0;
  // Request bodies arrive in chunks of a few KiB to 64 KiB; they are written in batches of
  // about 1 MiB with one writev, not one write (and one trip to the I/O pool) per chunk.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await file.writev(pending);
    pending = [];
    pendingBytes = 0;
  };
  const reader = body?.getReader();
  try {
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > options.maxBytes) {
        await reader.cancel().catch(() => {});
        throw new UploadTooLargeError(options.maxBytes);
      }
      hash.update(value);
      pending.push(value);
      pendingBytes += value.byteLength;
      if (pendingBytes >= SPOOL_WRITE_BYTES) await flush();
    }
    await flush();
    await file.close();
  } catch (err) {
    await file.close().catch(() => {});
    await discard();
    throw err;
  }
  return { path, size, sha256: hash.digest('hex'), discard };
}

/**
 * Describes a complete file already on local disk (a finished resumable upload) as a
 * `SpooledUpload` without copying it: reads it once for its sha256. The caller hands over
 * the file: `discard()` deletes it. Throws `UploadTooLargeError` past `maxBytes` (read
 * nothing then) and deletes the file whenever it throws.
 */
export async function adoptLocalFile(
  path: string,
  options: { maxBytes: number },
): Promise<SpooledUpload> {
  const discard = () => rm(path, { force: true });
  try {
    const { size } = await stat(path);
    if (size > options.maxBytes) throw new UploadTooLargeError(options.maxBytes);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: SPOOL_WRITE_BYTES })) {
      hash.update(chunk as Buffer);
    }
    return { path, size, sha256: hash.digest('hex'), discard };
  } catch (err) {
    await discard();
    throw err;
  }
}
