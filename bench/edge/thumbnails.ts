import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DerivedVariant, derivedKey, type Sha256 } from '@aex/shared';
import { Progress } from '@aex/shared/cli/progress';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import sharp from 'sharp';
import { forEachPooled } from '../lib/pool.ts';

export interface Thumbnail {
  sha256: Sha256;
  /** The URL path both servers answer it at: `/t/<sha256>/thumb`. */
  path: string;
  bytes: number;
}

/** mulberry32: a tiny seeded PRNG, so the same seed makes the same thumbnails. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRgb(random: () => number, width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return pixels;
}

/**
 * One WebP thumbnail as ingestion makes it (256 px on the long side, landscape or square):
 * a smooth colour field, mid-frequency detail of a random scale and grain of a random
 * strength, so the files land at 5–15 KB like thumbnails of real photos rather than a few
 * hundred bytes of flat colour.
 */
async function makeThumbnail(seed: number): Promise<Buffer> {
  const random = prng(seed);
  const width = DerivedVariant.thumb.maxSize;
  const height = random() < 0.7 ? Math.round(width * 0.75) : width;
  const raw = { width, height, channels: 3 } as const;
  const field = (w: number, h: number) =>
    sharp(randomRgb(random, w, h), { raw: { width: w, height: h, channels: 3 } })
      .resize(width, height, { kernel: 'cubic' })
      .raw()
      .toBuffer();
  const base = await field(3 + Math.floor(random() * 6), 3 + Math.floor(random() * 5));
  const detailWidth = 24 + Math.floor(random() * 40);
  const detail = await field(detailWidth, Math.round(detailWidth * 0.75));
  const grain = {
    create: {
      width,
      height,
      channels: 3,
      background: '#000', // unused with noise, but the type requires it
      noise: { type: 'gaussian', mean: 128, sigma: 4 + random() * 10 },
    },
  } as const;
  return sharp(base, { raw })
    .composite([
      { input: detail, raw, blend: 'soft-light' },
      { input: grain, blend: 'overlay' },
    ])
    .webp({ quality: 80 })
    .toBuffer();
}

/**
 * Makes `count` distinct thumbnails and stores each twice: in AEX's disk blob store as
 * `derived/<sha256>/thumb.webp` (the edge's origin), and in `siteDir` as `t/<sha256>/thumb`,
 * so Caddy's file_server answers the very same bytes at the very same URL path. The sha256
 * is that of the thumbnail's bytes: any 64-hex name will do, the edge never checks it.
 */
export async function makeThumbnails(options: {
  blobRoot: string;
  siteDir: string;
  count: number;
  seed: number;
  concurrency: number;
}): Promise<Thumbnail[]> {
  const blobs = createDiskBlobStore({ root: options.blobRoot });
  const progress = new Progress('generating thumbnails', options.count, { unit: 'thumbnails' });
  const made: Thumbnail[] = new Array(options.count);
  const indexes = Array.from({ length: options.count }, (_, i) => i);
  await forEachPooled(indexes, options.concurrency, async (i) => {
    const webp = await makeThumbnail(options.seed * 1_000_003 + i + 1);
    const sha256 = createHash('sha256').update(webp).digest('hex') as Sha256;
    await blobs.put(derivedKey(sha256, 'thumb'), webp, {
      contentType: DerivedVariant.thumb.contentType,
    });
    const dir = join(options.siteDir, 't', sha256);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'thumb'), webp);
    made[i] = { sha256, path: `/t/${sha256}/thumb`, bytes: webp.length };
    progress.tick();
  });
  progress.done();
  await blobs.close();
  return made;
}
