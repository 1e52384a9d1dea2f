import { rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Progress } from '@aex/shared/cli/progress';
import sharp from 'sharp';
import { forEachPooled } from '../lib/pool.ts';

export interface Fixture {
  path: string;
  bytes: number;
}

const CAMERAS = [
  ['Canon', 'Canon EOS R6'],
  ['NIKON CORPORATION', 'NIKON Z 6_2'],
  ['SONY', 'ILCE-7M3'],
  ['Apple', 'iPhone 13'],
  ['FUJIFILM', 'X-T4'],
] as const;

/** mulberry32: a tiny seeded PRNG, so the same `--seed` makes the same photos. */
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

function randomPixels(random: () => number, width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return pixels;
}

/**
 * Detail shared by every photo: mid-frequency blotches plus sensor-like grain. Making it
 * once costs ~2 s; per photo only a unique low-frequency colour field is new, so a photo
 * costs one 12 MP blend + JPEG encode (~0.7 s) yet decodes like a camera JPEG (~5 MB at
 * quality 90, entropy spread over all frequencies rather than a flat gradient).
 */
async function makeTexture(seed: number, width: number, height: number): Promise<Buffer> {
  const random = prng(seed);
  const [w, h] = [Math.ceil(width / 10), Math.ceil(height / 10)];
  return sharp(randomPixels(random, w, h), { raw: { width: w, height: h, channels: 3 } })
    .resize(width, height, { kernel: 'cubic' })
    .composite([
      {
        input: {
          create: {
            width: 500,
            height: 500,
            channels: 3,
            background: '#000', // unused with noise, but the type requires it
            noise: { type: 'gaussian', mean: 128, sigma: 20 },
          },
        },
        tile: true,
        blend: 'overlay',
      },
    ])
    .raw()
    .toBuffer();
}

function exifDate(random: () => number): string {
  const d = new Date(Date.UTC(2015, 0, 1) + Math.floor(random() * 10 * 365 * 86_400_000));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}:${p(d.getUTCMonth() + 1)}:${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * Makes `count` distinct 4000×3000 JPEGs with camera EXIF (Make, Model, DateTimeOriginal)
 * in `dir`, reusing any already there from an earlier run with the same seed. One in four
 * is stored sideways with Orientation 6, as cameras held upright write them, so the
 * auto-orientation path is exercised too.
 */
export async function makeFixtures(options: {
  dir: string;
  count: number;
  seed: number;
  concurrency: number;
  width?: number;
  height?: number;
}): Promise<Fixture[]> {
  const { dir, count, seed } = options;
  const width = options.width ?? 4000;
  const height = options.height ?? 3000;
  const paths = Array.from({ length: count }, (_, i) =>
    join(dir, `photo-${seed}-${width}x${height}-${String(i).padStart(5, '0')}.jpg`),
  );
  const missing: number[] = [];
  for (const [i, path] of paths.entries()) {
    if (!(await stat(path).catch(() => null))) missing.push(i);
  }
  if (missing.length > 0) {
    const texture = await makeTexture(seed, width, height);
    const progress = new Progress('generating photos', missing.length, { unit: 'photos' });
    await forEachPooled(missing, options.concurrency, async (i) => {
      const random = prng(seed * 1_000_003 + i + 1);
      const [make, model] = CAMERAS[i % CAMERAS.length] ?? CAMERAS[0];
      const [cw, ch] = [4 + Math.floor(random() * 6), 3 + Math.floor(random() * 5)];
      const jpeg = await sharp(randomPixels(random, cw, ch), {
        raw: { width: cw, height: ch, channels: 3 },
      })
        .resize(width, height, { kernel: 'cubic' })
        .composite([{ input: texture, raw: { width, height, channels: 3 }, blend: 'soft-light' }])
        .jpeg({ quality: 90 })
        .withExif({
          IFD0: { Make: make, Model: model, Orientation: i % 4 === 3 ? '6' : '1' },
          IFD2: { DateTimeOriginal: exifDate(random) },
        })
        .toBuffer();
      const path = paths[i] as string;
      // Written beside, then renamed: an interrupted run never leaves a truncated photo
      // that a later `--fixtures` run would take for a finished one. (writeFile, unlike
      // Bun.write, does not recreate a folder that Ctrl-C's cleanup has just deleted.)
      await writeFile(`${path}.part`, jpeg);
      await rename(`${path}.part`, path);
      progress.tick();
    });
    progress.done();
  }
  return Promise.all(paths.map(async (path) => ({ path, bytes: (await stat(path)).size })));
}
