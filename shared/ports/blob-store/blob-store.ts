/**
 * The blob store port: originals and derived images, addressed by key. Adapters: a local
 * directory (embedded) and any S3 API. Keys are `/`-separated relative paths made of
 * `[A-Za-z0-9._-]` segments; anything else is refused with `BlobKeyError`, so a key can
 * never escape a directory or a bucket prefix.
 */
export interface BlobInfo {
  key: string;
  /** Bytes in the whole blob, also when `get` returned only a range of them. */
  size: number;
  contentType?: string;
  lastModified?: Date;
}

export interface BlobObject extends BlobInfo {
  /** The bytes (or the requested range of them). Must be read or cancelled. */
  body: ReadableStream<Uint8Array>;
  /** Set when a range was requested: the inclusive byte range returned. */
  range?: { start: number; end: number };
}

export type BlobBody = Uint8Array | ReadableStream<Uint8Array>;

export interface PutOptions {
  contentType?: string;
  /** Required when `body` is a stream (S3 needs the length up front). */
  contentLength?: number;
}

export interface PutFileOptions {
  contentType?: string;
  /**
   * The caller no longer needs the file: a store on the same filesystem may move it into
   * place (a rename) instead of copying it. The file is gone or untouched afterwards.
   */
  move?: boolean;
}

export interface GetOptions {
  /** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
  range?: { start: number; end?: number };
}

export interface BlobStore {
  readonly kind: 'disk' | 's3';
  /** Writes a blob atomically: readers see the old blob or the whole new one, never a part. */
  put(key: string, body: BlobBody, options?: PutOptions): Promise<void>;
  /** Writes a blob from a local file without reading it into memory. */
  putFile(key: string, path: string, options?: PutFileOptions): Promise<void>;
  /** The blob, or null when there is none. */
  get(key: string, options?: GetOptions): Promise<BlobObject | null>;
  head(key: string): Promise<BlobInfo | null>;
  /** Deletes a blob; deleting a missing blob is not an error. */
  delete(key: string): Promise<void>;
  /** Every blob whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  close(): Promise<void>;
}

/** A key that is not a safe relative path. */
export class BlobKeyError extends Error {
  override name = 'BlobKeyError';
  constructor(readonly key: string) {
    super(`invalid blob key ${JSON.stringify(key)}: use '/'-separated [A-Za-z0-9._-] segments`);
  }
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Throws `BlobKeyError` unless `key` is a safe relative key (no `..`, no leading `/`). */
export function assertBlobKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new BlobKeyError(key);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment) || segment === '..' || segment.startsWith('.')) {
      throw new BlobKeyError(key);
    }
  }
}

/**
 * Throws `BlobKeyError` unless `prefix` can start a key: empty (every blob), a key, a key
 * followed by `/`, or a key whose last segment is cut short (`originals/a` lists
 * `originals/ab/…`).
 */
export function assertBlobPrefix(prefix: string): void {
  if (prefix === '') return;
  assertBlobKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/**
 * A range that starts at or past the end of the blob. HTTP answers `416 Range Not
 * Satisfiable` with a `Content-Range` that gives the blob's length (RFC 9110 §15.5.17),
 * hence `size`.
 */
export class BlobRangeError extends Error {
  override name = 'BlobRangeError';
  constructor(
    readonly key: string,
    readonly size: number,
    readonly range: { start: number; end?: number },
  ) {
    super(
      `range ${range.start}-${range.end ?? ''} of blob ${JSON.stringify(key)} (${size} bytes) is not satisfiable`,
    );
  }
}

/**
 * A stream body whose byte count differs from the `contentLength` it was put with. Reading
 * stops at the first excess chunk, so `received` is a lower bound when it exceeds `expected`.
 */
export class BlobLengthError extends Error {
  override name = 'BlobLengthError';
  constructor(
    readonly key: string,
    readonly expected: number,
    readonly received: number,
  ) {
    const got = received > expected ? `at least ${received}` : `${received}`;
    super(`blob ${JSON.stringify(key)}: body has ${got} bytes but contentLength is ${expected}`);
  }
}

/** The backend cannot be used (server unreachable, bucket missing, credentials refused). */
export class BlobStoreUnavailableError extends Error {
  override name = 'BlobStoreUnavailableError';
}

/** Whether `key` passes `assertBlobKey` (for skipping foreign files when listing). */
export function isBlobKey(key: string): boolean {
  try {
    assertBlobKey(key);
    return true;
  } catch {
    return false;
  }
}
