import { DerivedVariant } from '@aex/shared';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { assertPixelLimit, CorruptImageError, firstLine } from '../errors.ts';
import { applyOrientation, exifOrientation, swapsAxes } from './orientation.ts';
import type { DecodedRgba } from './wasm-protocol.ts';

/** The one decode of an original: preview-sized raw pixels and what the original was. */
export interface DecodedImage {
  /** sRGB 8-bit pixels fitted into the preview size, upright. */
  data: Buffer;
  info: OutputInfo;
  /** The original's dimensions as displayed (after its orientation). */
  width: number;
  height: number;
  orientation: number | null;
}

const INPUT = { failOn: 'error', limitInputPixels: false, sequentialRead: true } as const;

export interface VipsDecodeOptions {
  maxPixels: number;
  /** The loader libvips must pick (sharp's `format`); anything else is refused. */
  format: string;
  /** Apply this orientation instead of the one in the pixels' own EXIF (RAW previews). */
  orientation?: number;
}

/**
 * Decodes with libvips: the header first (the pixel limit is checked before any pixel is
 * decoded), then one decode that auto-orients and shrinks on load (a JPEG is decoded at 1/2,
 * 1/4 or 1/8 scale when that still covers the preview), straight from the file when given a
 * path, so the original never sits whole in memory.
 */
export async function decodeWithVips(
  input: string | Buffer,
  options: VipsDecodeOptions,
): Promise<DecodedImage> {
  let meta: Metadata;
  try {
    meta = await sharp(input, INPUT).metadata();
  } catch (err) {
    throw new CorruptImageError(`cannot read the image header: ${reason(err, input)}`, {
      cause: err,
    });
  }
  // libvips sniffs the bytes itself and can read formats AEX refuses (SVG, PDF…). The bytes
  // are decoded as the type they were detected as, or not at all.
  if (meta.format !== options.format) {
    throw new CorruptImageError(
      `the bytes were detected as ${options.format} but libvips reads them as ${meta.format}`,
    );
  }
  assertPixelLimit(meta.width ?? 0, meta.height ?? 0, options.maxPixels);
  const explicit = options.orientation !== undefined;
  const image = sharp(input, { ...INPUT, limitInputPixels: options.maxPixels });
  const { data, info } = await toPreview(
    explicit ? applyOrientation(image, options.orientation ?? 1) : image.rotate(),
    input,
  );
  const orientation = explicit ? (options.orientation ?? null) : exifOrientation(meta.orientation);
  const swap = swapsAxes(orientation);
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  return {
    data,
    info,
    width: (!explicit && meta.autoOrient?.width) || (swap ? height : width),
    height: (!explicit && meta.autoOrient?.height) || (swap ? width : height),
    orientation,
  };
}

/** Resizes a WebAssembly decoder's upright RGBA output to the preview. */
export async function decodeRgba(
  pixels: DecodedRgba,
  orientation: number | null,
): Promise<DecodedImage> {
  const { width, height } = pixels;
  const bytes = Buffer.from(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength);
  let image = sharp(bytes, { raw: { width, height, channels: 4 }, limitInputPixels: false });
  if (pixels.opaque) image = image.removeAlpha();
  const { data, info } = await toPreview(image, bytes);
  return { data, info, width, height, orientation };
}

async function toPreview(
  image: Sharp,
  input: string | Buffer,
): Promise<{ data: Buffer; info: OutputInfo }> {
  const size = DerivedVariant.preview.maxSize;
  try {
    return await image
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new CorruptImageError(reason(err, input), { cause: err });
  }
}

/** libvips names the file in some messages; the spool path is nobody's business. */
function reason(err: unknown, input: string | Buffer): string {
  const line = firstLine(err);
  return typeof input === 'string'
    ? line.replaceAll(`${input}: `, '').replaceAll(input, 'the file')
    : line;
}
