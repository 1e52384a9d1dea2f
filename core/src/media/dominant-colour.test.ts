import { describe, expect, test } from 'bun:test';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { dominantColour } from './dominant-colour.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const PHOTOS = [
  'objects/cat.jpg',
  'objects/rose.jpg',
  'faces/face_2.jpg',
  'exif-samples/jpg/Canon_40D.jpg',
  'exif-samples/jpg/gps/DSCN0010.jpg',
];

/** The ≤100 px RGBA copy ingest computes the colour from. */
async function smallRgba(path: string) {
  return sharp(path)
    .rotate()
    .resize(100, 100, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
}

const hex = ({ r, g, b }: { r: number; g: number; b: number }) =>
  `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;

describe('dominantColour', () => {
  test.each(PHOTOS)('%s: the colour of the fullest 16-level bin', async (rel) => {
    const { data } = await smallRgba(join(FIXTURES, rel));
    // An independent count: bins keyed by their levels, scanned in libvips' order.
    const counts = new Map<string, number>();
    for (let i = 0; i < data.length; i += 4) {
      const key = [data[i + 1], data[i], data[i + 2]].map((v) => (v ?? 0) >> 4).join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const most = Math.max(...counts.values());
    const colour = dominantColour(data, 4);
    const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(colour.slice(i, i + 2), 16) >> 4);
    expect(counts.get([g, r, b].join(','))).toBe(most);
  });

  test('unambiguous images: the same colour as sharp’s stats().dominant', async () => {
    const sharpDominant = async (pixels: Uint8Array, width: number) => {
      const raw = { width, height: pixels.length / 3 / width, channels: 3 as const };
      return hex((await sharp(pixels, { raw }).stats()).dominant);
    };
    const image = (parts: Array<[number, number[]]>) =>
      Uint8Array.from(parts.flatMap(([n, rgb]) => Array.from({ length: n }, () => rgb).flat()));
    for (const pixels of [
      image([[300, [120, 100, 70]]]),
      image([
        [148, [120, 100, 70]],
        [145, [170, 140, 100]],
        [7, [0, 0, 255]],
      ]),
      image([
        [145, [120, 100, 70]],
        [148, [170, 140, 100]],
        [7, [0, 0, 255]],
      ]),
    ]) {
      expect(dominantColour(pixels, 3)).toBe(await sharpDominant(pixels, 30));
    }
  });

  test('RGB and RGBA copies of the same pixels agree; alpha is ignored', () => {
    const rgb = new Uint8Array([250, 10, 10, 250, 10, 10, 0, 0, 250]);
    const rgba = new Uint8Array([250, 10, 10, 0, 250, 10, 10, 0, 0, 0, 250, 255]);
    expect(dominantColour(rgb, 3)).toBe('#f80808');
    expect(dominantColour(rgba, 4)).toBe('#f80808');
  });

  test('the centre of the bin: black is #080808, white #f8f8f8', () => {
    expect(dominantColour(new Uint8Array(30), 3)).toBe('#080808');
    expect(dominantColour(new Uint8Array(30).fill(255), 3)).toBe('#f8f8f8');
  });

  test('grey or fewer channels is a caller error', () => {
    expect(() => dominantColour(new Uint8Array(4), 1)).toThrow(/RGB or RGBA/);
  });
});
