import sharp, { type OutputInfo, type Sharp } from 'sharp';

/** An input that is not a decodable image: that item fails, the rest of its batch goes on. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/**
 * Decodes an encoded image (the webp preview core stores, jpeg, png, anything libvips reads)
 * through `pipeline` (orientation, alpha, colour space and resize, which each model wants its
 * own way) into raw interleaved pixels. Every task decodes through here, so an empty, foreign
 * or truncated input is the same expected outcome for all of them.
 * @throws ImageDecodeError if the bytes are empty, not an image, or truncated.
 */
export async function decodeRaw(
  bytes: Uint8Array,
  pipeline: (image: Sharp) => Sharp,
): Promise<{ data: Buffer; info: OutputInfo }> {
  if (bytes.length === 0) throw new ImageDecodeError('cannot decode image: no bytes');
  try {
    return await pipeline(sharp(bytes)).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageDecodeError(`cannot decode image: ${(err as Error).message}`, { cause: err });
  }
}
