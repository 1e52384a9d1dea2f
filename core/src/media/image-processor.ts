import { DerivedVariant } from '@aex/shared';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';

import { perceptualHash } from './perceptual-hash.ts';
import type { MediaType, ProcessedImage } from './types.ts';

export type { ProcessedImage } from './types.ts';

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

export interface ImageProcessorOptions {
  /** Refuse images with more pixels than this before decoding them. */
  maxPixels: number;
}

/**
 * Decodes an original once and makes every derived image from that decode: the preview
 * (1440 px) is resized from the original with shrink-on-load, and the thumbnail and
 * thumbhash from the preview's pixels, so a 12-megapixel JPEG is decompressed one time.
 */
export async function processImage(
  path: string,
  _type: Extract<MediaType, { supported: true }>,
  options: ImageProcessorOptions,
): Promise<ProcessedImage> {
  const input = { failOn: 'error', limitInputPixels: false, sequentialRead: true } as const;
  let meta: Metadata;
  try {
    meta = await sharp(path, input).metadata();
  } catch (err) {
    throw new CorruptImageError(`cannot read the image header: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > options.maxPixels) throw new ImageTooLargeError(pixels, options.maxPixels);
  if (!meta.width || !meta.height) throw new CorruptImageError('the image has no dimensions');

  const size = DerivedVariant.preview.maxSize;
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(path, { ...input, limitInputPixels: options.maxPixels })
      .rotate()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new CorruptImageError((err as Error).message.split('\n')[0] ?? 'decode failed', {
      cause: err,
    });
  }
  const { data, info } = decoded;
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } } as const;
  const thumbSize = DerivedVariant.thumb.maxSize;
  const [preview, thumb, hashInput, phash, stats] = await Promise.all([
    sharp(data, raw).webp({ quality: 82, effort: 2 }).toBuffer(),
    sharp(data, raw)
      .resize(thumbSize, thumbSize, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80, effort: 2 })
      .toBuffer(),
    // ThumbHash encodes images of at most 100×100.
    sharp(data, raw)
      .resize(100, 100, { fit: 'inside' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }),
    perceptualHash(sharp(data, raw)),
    sharp(data, raw).resize(64, 64, { fit: 'inside' }).stats(),
  ]);
  const { r, g, b } = stats.dominant;
  const hash = rgbaToThumbHash(hashInput.info.width, hashInput.info.height, hashInput.data);
  const swap = (meta.orientation ?? 1) >= 5;
  return {
    width: meta.autoOrient?.width ?? (swap ? meta.height : meta.width),
    height: meta.autoOrient?.height ?? (swap ? meta.width : meta.height),
    orientation: meta.orientation ?? null,
    preview,
    thumb,
    thumbhash: Buffer.from(hash).toString('base64'),
    dominantColor: `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`,
    phash,
  };
}
