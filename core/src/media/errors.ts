/** The bytes are a known image type but cannot be decoded (truncated, corrupt). */
export class CorruptImageError extends Error {
  override name = 'CorruptImageError';
}

/** The image has more pixels than the configured limit: a decompression bomb guard. */
export class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError';
  constructor(
    readonly pixels: number,
    readonly limit: number,
  ) {
    super(`the image has ${pixels} pixels, more than the limit of ${limit}`);
  }
}

/** Refuses `width × height` over `limit` before anything of that size is allocated. */
export function assertPixelLimit(width: number, height: number, limit: number): void {
  if (!(width > 0 && height > 0)) {
    throw new CorruptImageError(`the image header gives no usable size (${width} × ${height})`);
  }
  const pixels = width * height;
  if (pixels > limit) throw new ImageTooLargeError(pixels, limit);
}

/** First line of a decoder's message: libvips appends multi-line detail nobody needs. */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]?.trim() || 'decode failed';
}
