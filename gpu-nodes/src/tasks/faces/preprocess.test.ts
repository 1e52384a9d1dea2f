import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { ImageDecodeError } from '../tags/mod.ts';
import { decodeForDetection, decodeRgb, detectorInput, type RgbImage } from './preprocess.ts';

const solid = (width: number, height: number, background: { r: number; g: number; b: number }) =>
  sharp({ create: { width, height, channels: 3, background } });

/** Left half black, right half white, as a PNG. */
async function halves(width: number, height: number) {
  const white = await solid(width / 2, height, { r: 255, g: 255, b: 255 })
    .png()
    .toBuffer();
  return solid(width, height, { r: 0, g: 0, b: 0 }).composite([
    { input: white, left: width / 2, top: 0 },
  ]);
}

const rgbAt = (image: RgbImage, x: number, y: number) =>
  Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));

describe('decodeRgb', () => {
  test('decodes the webp previews core stores into interleaved RGB', async () => {
    const webp = await solid(1440, 960, { r: 200, g: 100, b: 30 }).webp({ quality: 90 }).toBuffer();
    const image = await decodeRgb(webp);
    expect([image.width, image.height, image.data.length]).toEqual([1440, 960, 1440 * 960 * 3]);
    const [r, g, b] = rgbAt(image, 700, 500);
    expect(Math.abs((r as number) - 200)).toBeLessThan(4);
    expect(Math.abs((g as number) - 100)).toBeLessThan(4);
    expect(Math.abs((b as number) - 30)).toBeLessThan(4);
  });

  test('applies the EXIF orientation, so fractions refer to the upright image', async () => {
    // Orientation 6 says "rotate 90° clockwise to view": the black left half becomes the top.
    const jpeg = await (await halves(64, 32)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const image = await decodeRgb(jpeg);
    expect([image.width, image.height]).toEqual([32, 64]);
    expect(rgbAt(image, 16, 5)[0]).toBeLessThan(40);
    expect(rgbAt(image, 16, 58)[0]).toBeGreaterThan(215);
  });

  test('flattens transparency onto white and expands greyscale to three channels', async () => {
    const clear = await sharp({
      create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    expect(rgbAt(await decodeRgb(clear), 3, 3)).toEqual([255, 255, 255]);
    const grey = await solid(8, 8, { r: 90, g: 90, b: 90 }).toColourspace('b-w').png().toBuffer();
    const image = await decodeRgb(grey);
    expect(image.data.length).toBe(8 * 8 * 3);
    expect(rgbAt(image, 3, 3)).toEqual([90, 90, 90]);
  });

  test.each([
    ['an empty array', new Uint8Array(0)],
    ['random bytes', crypto.getRandomValues(new Uint8Array(2048))],
    ['a truncated PNG', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])],
  ])('rejects %s with ImageDecodeError', async (_, bytes) => {
    const err = await decodeRgb(bytes).catch((e) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(err.message).toStartWith('cannot decode image: ');
  });
});

describe('decodeForDetection', () => {
  test('decodes at the detection size and gives the upright image its own size', async () => {
    const webp = await solid(1440, 962, { r: 200, g: 100, b: 30 }).webp({ quality: 90 }).toBuffer();
    const image = await decodeForDetection(webp, 960);
    expect([image.width, image.height]).toEqual([1440, 962]);
    // 962 · 960 / 1440 = 641.33, rounded as detectorInput rounds it.
    expect([image.pixels.width, image.pixels.height]).toEqual([960, 641]);
    expect(image.pixels.data).toHaveLength(960 * 641 * 3);
    const [r, g, b] = rgbAt(image.pixels, 500, 300);
    expect(Math.abs((r as number) - 200)).toBeLessThan(4);
    expect(Math.abs((g as number) - 100)).toBeLessThan(4);
    expect(Math.abs((b as number) - 30)).toBeLessThan(4);
  });

  test('applies the EXIF orientation before sizing', async () => {
    const jpeg = await (await halves(64, 32)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const image = await decodeForDetection(jpeg, 128);
    expect([image.width, image.height, image.pixels.width, image.pixels.height]).toEqual([
      32, 64, 64, 128,
    ]);
    expect(rgbAt(image.pixels, 32, 10)[0]).toBeLessThan(40);
    expect(rgbAt(image.pixels, 32, 116)[0]).toBeGreaterThan(215);
  });

  test('gives YuNet the input a full-size decode resized to the detection size gives', async () => {
    // Texture at every scale, so a different resampling would show, in the previews' format:
    // libwebp's own downscaling while decoding (sharp's default) differs by up to 77 here.
    const width = 1440;
    const height = 1000;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const webp = await sharp(data, { raw: { width, height, channels: 3 } })
      .webp({ quality: 90 })
      .toBuffer();
    const once = await detectorInput((await decodeForDetection(webp, 960)).pixels, 960);
    const twice = await detectorInput(await decodeRgb(webp), 960);
    expect(once.dims).toEqual(twice.dims);
    let worst = 0;
    for (let i = 0; i < once.data.length; i++) {
      worst = Math.max(worst, Math.abs((once.data[i] as number) - (twice.data[i] as number)));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  test.each([
    ['an empty array', new Uint8Array(0)],
    ['random bytes', crypto.getRandomValues(new Uint8Array(2048))],
    ['a truncated PNG', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])],
  ])('rejects %s with ImageDecodeError', async (_, bytes) => {
    const err = await decodeForDetection(bytes, 960).catch((e) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(err.message).toStartWith('cannot decode image: ');
  });
});

describe('detectorInput', () => {
  const image = (width: number, height: number, rgb: [number, number, number]): RgbImage => {
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
    return { data, width, height };
  };

  test('lays out planar BGR 0–255, zero-padded right and bottom to multiples of 32', async () => {
    const input = await detectorInput(image(50, 20, [10, 20, 30]), 50);
    expect(input.dims).toEqual([1, 3, 32, 64]);
    expect([input.width, input.height]).toEqual([50, 20]);
    const plane = 32 * 64;
    const at = (c: number, y: number, x: number) => input.data[c * plane + y * 64 + x];
    expect([at(0, 0, 0), at(1, 0, 0), at(2, 0, 0)]).toEqual([30, 20, 10]);
    expect([at(0, 19, 49), at(1, 19, 49), at(2, 19, 49)]).toEqual([30, 20, 10]);
    // Padding: right of column 49 and below row 19.
    expect([at(0, 0, 50), at(2, 19, 63), at(1, 20, 0), at(0, 31, 63)]).toEqual([0, 0, 0, 0]);
  });

  test('scales the longer side to the detection size, keeping the aspect ratio', async () => {
    const down = await detectorInput(image(1440, 960, [0, 0, 0]), 960);
    expect([down.width, down.height, ...down.dims.slice(2)]).toEqual([960, 640, 640, 960]);
    // Small images are enlarged: the detector always sees faces at one scale.
    const up = await detectorInput(image(300, 450, [0, 0, 0]), 960);
    expect([up.width, up.height, ...up.dims.slice(2)]).toEqual([640, 960, 960, 640]);
  });

  test('keeps the pixel values through the resize', async () => {
    const input = await detectorInput(image(100, 100, [200, 100, 50]), 64);
    expect([input.data[0], input.data[64 * 64], input.data[2 * 64 * 64]]).toEqual([50, 100, 200]);
  });

  test('fills reused storage, padding zeroed, and allocates when it is too small', async () => {
    const storage = new Float32Array(3 * 64 * 64).fill(7);
    const input = await detectorInput(image(50, 20, [10, 20, 30]), 50, storage);
    expect(input.data.buffer).toBe(storage.buffer);
    expect(input.data).toEqual((await detectorInput(image(50, 20, [10, 20, 30]), 50)).data);
    const small = new Float32Array(10);
    const other = await detectorInput(image(50, 20, [10, 20, 30]), 50, small);
    expect(other.data.buffer).not.toBe(small.buffer);
    expect(other.data).toHaveLength(3 * 32 * 64);
  });
});
