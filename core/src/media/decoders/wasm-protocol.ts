import { CorruptImageError, ImageTooLargeError } from '../errors.ts';

/** What the main thread asks a decode worker to do. */
export interface WasmDecodeRequest {
  decoder: 'heif' | 'jxl';
  path: string;
  /** The largest image the worker may allocate pixels for. */
  maxPixels: number;
}

/** 8-bit RGBA pixels, upright (the decoder applied the format's own orientation). */
export interface DecodedRgba {
  width: number;
  height: number;
  data: Uint8Array;
  /** No pixel is transparent, so the alpha channel can be dropped. */
  opaque: boolean;
}

type SerializedError =
  | { name: 'ImageTooLargeError'; pixels: number; limit: number }
  | { name: 'CorruptImageError'; message: string };

/** What the worker answers; errors travel as plain data and are rebuilt on this side. */
export type WasmDecodeResponse =
  | ({ ok: true } & DecodedRgba)
  | { ok: false; error: SerializedError };

/** Turns a worker-side failure into data a `postMessage` can carry. */
export function serializeError(err: unknown, logs: readonly string[]): SerializedError {
  if (err instanceof ImageTooLargeError) {
    return { name: 'ImageTooLargeError', pixels: err.pixels, limit: err.limit };
  }
  const message = err instanceof Error ? err.message : String(err);
  // WebAssembly decoders print their reason before failing; it is the useful part.
  const detail = logs.filter((line) => line.trim()).join('; ');
  return { name: 'CorruptImageError', message: detail ? `${message} (${detail})` : message };
}

/** Rebuilds the named error a worker reported. */
export function deserializeError(error: SerializedError): Error {
  return error.name === 'ImageTooLargeError'
    ? new ImageTooLargeError(error.pixels, error.limit)
    : new CorruptImageError(error.message);
}

/** True when every alpha byte of RGBA pixels is 255. */
export function isOpaque(rgba: Uint8Array): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}
