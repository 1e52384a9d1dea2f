import { type BlobBody, BlobLengthError, type PutOptions } from './blob-store.ts';

/**
 * The byte count a put writes. A stream must come with `contentLength` on every adapter, not
 * only on S3 (which sends the length before the bytes): code tested against the disk store
 * in embedded mode then also works against S3.
 */
export function declaredLength(key: string, body: BlobBody, options?: PutOptions): number {
  const given = options?.contentLength;
  if (given !== undefined && !(Number.isSafeInteger(given) && given >= 0)) {
    throw new TypeError(`contentLength must be a non-negative integer, got ${given}`);
  }
  if (body instanceof Uint8Array) {
    if (given !== undefined && given !== body.byteLength) {
      throw new BlobLengthError(key, given, body.byteLength);
    }
    return body.byteLength;
  }
  if (given === undefined) {
    throw new TypeError(
      `put(${JSON.stringify(key)}, stream) needs options.contentLength: S3 must know the ` +
        'length before the bytes, so every blob store asks for it (or pass a Uint8Array)',
    );
  }
  return given;
}

/**
 * Reads a stream body in slices of exact lengths while counting it, so an adapter can write
 * it piece by piece (S3 multipart parts) and refuse a body shorter or longer than declared
 * before anything becomes visible.
 */
export class BodyReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Uint8Array | undefined;
  #received = 0;
  /**
   * Set when the source stream itself failed: an adapter passes that error on untouched, so
   * a dropped client upload (`ECONNRESET`) is not taken for an unreachable server.
   */
  sourceError: unknown;

  constructor(
    readonly key: string,
    stream: ReadableStream<Uint8Array>,
    readonly expected: number,
  ) {
    this.#reader = stream.getReader();
  }

  /** Yields exactly `length` bytes; throws `BlobLengthError` when the stream ends first. */
  async *take(length: number): AsyncGenerator<Uint8Array> {
    let left = length;
    while (left > 0) {
      let chunk = this.#pending ?? (await this.#next());
      this.#pending = undefined;
      if (chunk === undefined) throw new BlobLengthError(this.key, this.expected, this.#received);
      if (chunk.byteLength > left) {
        this.#pending = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.byteLength;
      if (chunk.byteLength > 0) yield chunk;
    }
  }

  /** Reads exactly `length` bytes into one buffer (for bodies small enough to hold). */
  async collect(length: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(length);
    let offset = 0;
    for await (const chunk of this.take(length)) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes;
  }

  /** Checks that the stream holds nothing beyond `expected` bytes. */
  async end(): Promise<void> {
    for (;;) {
      const chunk = this.#pending ?? (await this.#next());
      this.#pending = undefined;
      if (chunk === undefined) return;
      if (chunk.byteLength > 0) {
        throw new BlobLengthError(this.key, this.expected, this.#received);
      }
    }
  }

  /** Stops the source after a failed write, so its producer is not left waiting. */
  async cancel(reason: unknown): Promise<void> {
    // A stream that itself failed rejects `cancel` with its own error: nothing left to do.
    await this.#reader.cancel(reason).catch(() => {});
  }

  async #next(): Promise<Uint8Array | undefined> {
    const next = await this.#reader.read().catch((error: unknown) => {
      this.sourceError = error;
      throw error;
    });
    if (next.done) return undefined;
    this.#received += next.value.byteLength;
    return next.value;
  }
}
