import { DerivedVariant } from '@aex/shared';
import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { readRawPreview } from './decoders/raw-preview.ts';
import { type DecodedImage, decodeRgba, decodeWithVips } from './decoders/vips.ts';
import { decodeWithWasm } from './decoders/wasm-decoder.ts';
import { dominantColour } from './dominant-colour.ts';
import { perceptualHash } from './perceptual-hash.ts';
import type { MediaType, ProcessedImage } from './types.ts';

export { CorruptImageError, ImageTooLargeError } from './errors.ts';
export type { ProcessedImage } from './types.ts';

export interface ImageProcessorOptions {
  /** Refuse images with more pixels than this before decoding them. */
  maxPixels: number;
  /** Kill a WebAssembly decode (HEIC, JPEG XL) after this long; default scales with its size. */
  wasmTimeoutMs?: number;
  /** Aborting stops WebAssembly decodes in flight (their workers are terminated). */
  signal?: AbortSignal;
}

// The loader libvips must choose for each format it decodes (sharp's `metadata().format`).
const VIPS_FORMATS: Record<string, string> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tiff',
  avif: 'heif',
};

/**
 * Decodes an original once and makes every derived image from that decode: the preview
 * (1440 px) is resized from the original with shrink-on-load, and the thumbnail, thumbhash,
 * dominant colour and perceptual hash from the preview's pixels, so a 12-megapixel JPEG is
 * decompressed one time. HEIC and JPEG XL go through WebAssembly decoders, camera RAWs through
 * the JPEG preview they embed; every path applies the format's orientation exactly once.
 */
export async function processImage(
  path: string,
  type: Extract<MediaType, { supported: true }>,
  options: ImageProcessorOptions,
): Promise<ProcessedImage> {
  return deriveImages(await decodeOriginal(path, type, options));
}

async function decodeOriginal(
  path: string,
  type: Extract<MediaType, { supported: true }>,
  options: ImageProcessorOptions,
): Promise<DecodedImage> {
  const { maxPixels } = options;
  switch (type.decoder) {
    case 'vips':
      return decodeWithVips(path, { maxPixels, format: VIPS_FORMATS[type.format] ?? type.format });
    case 'raw-preview': {
      const preview = await readRawPreview(path, type.format);
      // The RAW's own IFD0 Orientation wins over whatever EXIF the preview carries; a RAF
      // (no IFD0) or a RAW without the tag falls back to the preview's EXIF.
      return decodeWithVips(preview.jpeg, {
        maxPixels,
        format: 'jpeg',
        orientation: preview.orientation ?? undefined,
      });
    }
    case 'heif':
    case 'jxl': {
      const decoded = await decodeWithWasm(path, type.decoder, {
        maxPixels,
        timeoutMs: options.wasmTimeoutMs,
        signal: options.signal,
      });
      return decodeRgba(decoded, decoded.orientation);
    }
  }
}

async function deriveImages(decoded: DecodedImage): Promise<ProcessedImage> {
  const { data, info } = decoded;
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } } as const;
  const thumbSize = DerivedVariant.thumb.maxSize;
  // Only two passes read the preview's pixels: its webp, and one resize to thumbnail size.
  // The small derivatives (thumbhash, dominant colour, perceptual hash) come from the
  // thumbnail's pixels, not from another resize of the 1440 px buffer each (that cost
  // ~45 ms of CPU per 12 MP photo).
  const [preview, small] = await Promise.all([
    sharp(data, raw).webp({ quality: 82, effort: 2 }).toBuffer(),
    sharp(data, raw)
      .resize(thumbSize, thumbSize, { fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  ]);
  const thumbRaw = {
    raw: { width: small.info.width, height: small.info.height, channels: small.info.channels },
  } as const;
  const [thumb, hashInput, phash] = await Promise.all([
    sharp(small.data, thumbRaw).webp({ quality: 80, effort: 2 }).toBuffer(),
    // ThumbHash encodes images of at most 100×100.
    sharp(small.data, thumbRaw)
      .resize(100, 100, { fit: 'inside' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }),
    perceptualHash(sharp(small.data, thumbRaw)),
  ]);
  const hash = rgbaToThumbHash(hashInput.info.width, hashInput.info.height, hashInput.data);
  return {
    width: decoded.width,
    height: decoded.height,
    orientation: decoded.orientation,
    preview,
    thumb,
    thumbhash: Buffer.from(hash).toString('base64'),
    dominantColor: dominantColour(hashInput.data, 4),
    phash,
  };
}
