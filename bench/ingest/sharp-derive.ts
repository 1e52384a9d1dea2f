import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';

// The same encoder settings as core/src/media/image-processor.ts: a baseline that encoded
// with less effort or lower quality would measure a different job, not AEX's plumbing.
const PREVIEW = { size: 1440, webp: { quality: 82, effort: 2 } } as const;
const THUMB = { size: 256, webp: { quality: 80, effort: 2 } } as const;

/**
 * `sharp-derive`: the least work any ingester must do for one photo — one decode with the
 * EXIF orientation applied, shrunk to fit the 1440 px preview (libjpeg shrink-on-load), the
 * preview and the 256 px thumbnail as WebP from those pixels, and a ThumbHash from a
 * ≤100×100 RGBA copy. No hashing, no sniffing, no EXIF parse, no copy of the original, no
 * database: what AEX does beyond this is the price of its plumbing.
 */
export async function sharpDerive(
  path: string,
): Promise<{ preview: Buffer; thumb: Buffer; thumbhash: Uint8Array }> {
  const { data, info } = await sharp(path, { failOn: 'error', sequentialRead: true })
    .rotate()
    .resize(PREVIEW.size, PREVIEW.size, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } } as const;
  const [preview, thumb, small] = await Promise.all([
    sharp(data, raw).webp(PREVIEW.webp).toBuffer(),
    sharp(data, raw)
      .resize(THUMB.size, THUMB.size, { fit: 'inside', withoutEnlargement: true })
      .webp(THUMB.webp)
      .toBuffer(),
    sharp(data, raw)
      .resize(100, 100, { fit: 'inside' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }),
  ]);
  const thumbhash = rgbaToThumbHash(small.info.width, small.info.height, small.data);
  return { preview, thumb, thumbhash };
}
