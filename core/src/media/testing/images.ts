/** Shared helpers of the media tests: fixture paths, temporary files, pixel comparison. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { MediaType } from '../types.ts';

export const FIXTURES = resolve(import.meta.dir, '../../../../../shared/fixtures/images');
export const fixture = (path: string) => join(FIXTURES, path);
export const LIMIT = { maxPixels: 100_000_000 };

export type Supported = Extract<MediaType, { supported: true }>;
export const JPEG: Supported = {
  supported: true,
  mime: 'image/jpeg',
  format: 'jpeg',
  decoder: 'vips',
};

/** A fresh temporary directory and a writer of files into it. */
export async function scratch(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), `aex-${prefix}-`));
  return {
    dir,
    async write(name: string, bytes: Uint8Array | string): Promise<string> {
      const path = join(dir, name);
      await writeFile(path, bytes);
      return path;
    },
  };
}

/** An image as 32×32 grey pixels: small enough to ignore codec noise, big enough for content. */
export function greySignature(input: Buffer | string): Promise<Buffer> {
  return sharp(input).resize(32, 32, { fit: 'fill' }).greyscale().raw().toBuffer();
}

/** Mean absolute difference of two equal-length byte arrays (0 = identical, 255 = inverse). */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

/** How far two images are apart in content, on their grey signatures. */
export async function contentDistance(a: Buffer | string, b: Buffer | string): Promise<number> {
  return meanAbsDiff(await greySignature(a), await greySignature(b));
}
