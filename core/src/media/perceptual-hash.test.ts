import { beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { processImage } from './image-processor.ts';
import { detectMediaType } from './media-type.ts';
import { hammingDistance, perceptualHash } from './perceptual-hash.ts';
import { fixture, LIMIT, scratch } from './testing/images.ts';

const PHOTOS = [
  'exif-samples/jpg/Canon_40D.jpg',
  'exif-samples/jpg/Nikon_D70.jpg',
  'exif-samples/jpg/Pentax_K10D.jpg',
  'exif-samples/jpg/Sony_HDR-HC3.jpg',
  'exif-samples/jpg/gps/DSCN0010.jpg',
  'objects/cat.jpg',
  'objects/rose.jpg',
  'faces/face_1.jpg',
  'faces/face_2.jpg',
];

let dir: Awaited<ReturnType<typeof scratch>>;

/** The pHash ingestion stores for these bytes: the whole pipeline, not the bare function. */
async function phashOf(bytes: Buffer): Promise<bigint> {
  const path = await dir.write(`image-${Math.random().toString(36).slice(2)}`, bytes);
  const type = await detectMediaType(path);
  if (!type.supported) throw new Error('unsupported test input');
  return (await processImage(path, type, LIMIT)).phash;
}

beforeAll(async () => {
  dir = await scratch('phash');
});

describe('hammingDistance', () => {
  test.each([
    [0n, 0n, 0],
    [0n, 1n, 1],
    [0b1011n, 0b0110n, 3],
    [-1n, 0n, 64],
    [BigInt.asIntN(64, 1n << 63n), 0n, 1],
  ])('%p vs %p: %d bits', (a, b, bits) => {
    expect(hammingDistance(a, b)).toBe(bits);
  });
});

describe('perceptual hash', () => {
  // Measured on these photos: resize and re-encode move 0–4 bits, a 3 % crop on every side
  // (then resized and re-encoded) 2–8; different photos are 24+ bits apart. Crops of 5 % or
  // more reach 10–18 bits: "lightly cropped" means a few percent.
  test.each(PHOTOS)('%s stays within 10 bits of its copies', async (name) => {
    const source = await sharp(fixture(name)).toBuffer();
    const { width = 0, height = 0 } = await sharp(source).metadata();
    const original = await phashOf(source);
    const crop = (f: number) => ({
      left: Math.round(width * f),
      top: Math.round(height * f),
      width: Math.round(width * (1 - 2 * f)),
      height: Math.round(height * (1 - 2 * f)),
    });
    const copies = {
      halved: await sharp(source)
        .resize(Math.round(width / 2))
        .jpeg()
        .toBuffer(),
      reencoded: await sharp(source).jpeg({ quality: 30 }).toBuffer(),
      webp: await sharp(source).webp({ quality: 50 }).toBuffer(),
      cropped: await sharp(source)
        .extract(crop(0.03))
        .resize(Math.round(width * 0.7))
        .jpeg({ quality: 60 })
        .toBuffer(),
    };
    const far: string[] = [];
    for (const [kind, bytes] of Object.entries(copies)) {
      const distance = hammingDistance(original, await phashOf(bytes));
      if (distance > 10) far.push(`${kind}: ${distance} bits`);
    }
    expect(far).toEqual([]);
  });

  test('different photos are at least 20 bits apart', async () => {
    const hashes = await Promise.all(
      PHOTOS.map(async (name) => ({
        name,
        hash: await phashOf(await sharp(fixture(name)).toBuffer()),
      })),
    );
    const close: string[] = [];
    for (const [i, a] of hashes.entries()) {
      for (const b of hashes.slice(i + 1)) {
        const distance = hammingDistance(a.hash, b.hash);
        if (distance < 20) close.push(`${a.name} ~ ${b.name}: ${distance} bits`);
      }
    }
    expect(close).toEqual([]);
  });

  test('a flat image hashes deterministically and differs from a photo', async () => {
    const flat = sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } });
    const a = await perceptualHash(flat.clone());
    expect(await perceptualHash(flat.clone())).toBe(a);
    const photo = await phashOf(await sharp(fixture(PHOTOS[0] as string)).toBuffer());
    expect(hammingDistance(a, photo)).toBeGreaterThan(10);
  });
});

describe('dominant colour', () => {
  const channels = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

  test.each([
    ['#ff0000', [255, 0, 0]],
    ['#00ff00', [0, 255, 0]],
    ['#2040c0', [32, 64, 192]],
  ])('a solid %s image gives about that colour', async (background, rgb) => {
    const bytes = await sharp({ create: { width: 300, height: 200, channels: 3, background } })
      .png()
      .toBuffer();
    const path = await dir.write('solid', bytes);
    const type = await detectMediaType(path);
    if (!type.supported) throw new Error('PNG not detected');
    const { dominantColor } = await processImage(path, type, LIMIT);
    expect(dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    // sharp's dominant colour is the centre of a 16-level histogram bin: within 8 of the truth.
    channels(dominantColor).forEach((value, i) => {
      expect(Math.abs(value - (rgb[i] ?? 0))).toBeLessThanOrEqual(8);
    });
  });

  test('the colour covering most of the image wins', async () => {
    const blue = await sharp({
      create: { width: 300, height: 200, channels: 3, background: '#0000ff' },
    })
      .composite([
        {
          input: { create: { width: 100, height: 200, channels: 3, background: '#ffff00' } },
          left: 0,
          top: 0,
        },
      ])
      .png()
      .toBuffer();
    const path = await dir.write('two-colours', blue);
    const type = await detectMediaType(path);
    if (!type.supported) throw new Error('PNG not detected');
    const [r = 0, g = 0, b = 0] = channels((await processImage(path, type, LIMIT)).dominantColor);
    expect(b).toBeGreaterThan(240);
    expect(r + g).toBeLessThan(32);
  });
});
