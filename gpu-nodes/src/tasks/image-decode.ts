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

/**
 * Turns off libvips' operation cache, process-wide. libvips keeps the last 100 operations (up
 * to 50 MB of pixels) in case one is asked for again, and every sharp call pays to look among
 * them: measured over 1440 px previews, reading a header took ~7 ms with the cache against 0.3
 * without, and the faces and tags tasks' decoding ~9 and ~4 ms more CPU per image. A worker
 * never repeats an operation (each task decodes each preview once), so it keeps none.
 */
export function disableOperationCache(): void {
  sharp.cache(false);
}

/**
 * The size of the image in `bytes` once EXIF-oriented, read from its header: for a task that
 * picks its decode size from the image's own (~0.3 ms without libvips' operation cache, against
 * tens for decoding the pixels).
 * @throws ImageDecodeError if the bytes are empty or not an image.
 */
export async function uprightSize(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  if (bytes.length === 0) throw new ImageDecodeError('cannot decode image: no bytes');
  try {
    const { autoOrient } = await sharp(bytes).metadata();
    return { width: autoOrient.width, height: autoOrient.height };
  } catch (err) {
    throw new ImageDecodeError(`cannot decode image: ${(err as Error).message}`, { cause: err });
  }
}
