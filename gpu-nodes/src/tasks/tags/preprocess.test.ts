import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { getModelEntry, type ImagePreprocess } from '../../models/registry.ts';
import { FIXTURE_IMAGES, fixture, fixturesAvailable } from '../../models/testing.ts';
import { assembleBatch, ImageDecodeError, preprocessImage } from './preprocess.ts';

const spec = getModelEntry('classify-mobilenetv2').preprocess as ImagePreprocess;
const plane = 224 * 224;
const at = (t: Float32Array, c: number, y: number, x: number) =>
  t[c * plane + y * 224 + x] as number;
/** The normalised value of an 8-bit channel value in channel `c`. */
const norm = (value: number, c: number) =>
  (value / 255 - (spec.mean[c] as number)) / (spec.std[c] as number);

type Rgb = { r: number; g: number; b: number };
const solid = (
  width: number,
  height: number,
  background: Rgb & { alpha?: number },
  channels: 3 | 4 = 3,
) => sharp({ create: { width, height, channels, background } });

/** Left half black, right half white. */
async function halves(width: number, height: number) {
  const white = await solid(width / 2, height, { r: 255, g: 255, b: 255 })
    .png()
    .toBuffer();
  return solid(width, height, { r: 0, g: 0, b: 0 }).composite([
    { input: white, left: width / 2, top: 0 },
  ]);
}

describe('preprocessImage', () => {
  test('normalises each channel with ImageNet mean/std into planar RGB', async () => {
    const png = await solid(300, 200, { r: 255, g: 128, b: 0 }).png().toBuffer();
    const t = await preprocessImage(png, spec);
    expect(t).toHaveLength(3 * plane);
    for (const [c, value] of [255, 128, 0].entries()) {
      expect(at(t, c, 0, 0)).toBeCloseTo(norm(value, c), 5);
      expect(at(t, c, 223, 223)).toBeCloseTo(norm(value, c), 5);
    }
  });

  test('puts blue first for a BGR model', async () => {
    const png = await solid(224, 224, { r: 255, g: 0, b: 0 }).png().toBuffer();
    const bgr = {
      ...spec,
      channelOrder: 'bgr' as const,
      scale: 1,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    };
    const t = await preprocessImage(png, bgr as ImagePreprocess);
    expect([at(t, 0, 5, 5), at(t, 1, 5, 5), at(t, 2, 5, 5)]).toEqual([0, 0, 255]);
  });

  test('resizes the shorter side to 256 and crops the centre 224', async () => {
    // 512×256 needs no resize; the crop spans x 144..367, so the edge at x 256 lands at 112.
    const png = await (await halves(512, 256)).png().toBuffer();
    const t = await preprocessImage(png, spec);
    expect(at(t, 0, 100, 0)).toBeCloseTo(norm(0, 0), 5);
    expect(at(t, 0, 100, 111)).toBeCloseTo(norm(0, 0), 5);
    expect(at(t, 0, 100, 112)).toBeCloseTo(norm(255, 0), 5);
    expect(at(t, 0, 100, 223)).toBeCloseTo(norm(255, 0), 5);
  });

  test('scales small images up so the crop sees the whole shorter side', async () => {
    // 100×50 → 512×256: still half black, half white, with the edge at crop column 112.
    const png = await (await halves(100, 50)).png().toBuffer();
    const t = await preprocessImage(png, spec);
    expect(at(t, 0, 100, 100)).toBeCloseTo(norm(0, 0), 2);
    expect(at(t, 0, 100, 124)).toBeCloseTo(norm(255, 0), 2);
  });

  test('applies the EXIF orientation', async () => {
    // Orientation 6 says "rotate 90° clockwise to view": the black left half becomes the top.
    const jpeg = await (await halves(512, 256)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const t = await preprocessImage(jpeg, spec);
    expect(at(t, 0, 10, 112)).toBeLessThan(norm(40, 0));
    expect(at(t, 0, 213, 112)).toBeGreaterThan(norm(215, 0));
  });

  test('composites transparency over white and expands greyscale to three channels', async () => {
    const clear = await solid(64, 64, { r: 0, g: 0, b: 0, alpha: 0 }, 4).png().toBuffer();
    const t = await preprocessImage(clear, spec);
    for (const c of [0, 1, 2]) expect(at(t, c, 50, 50)).toBeCloseTo(norm(255, c), 5);

    const grey = await solid(64, 64, { r: 100, g: 100, b: 100 })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const g = await preprocessImage(grey, spec);
    for (const c of [0, 1, 2]) expect(at(g, c, 50, 50)).toBeCloseTo(norm(100, c), 5);
  });

  test('decodes the webp previews that core produces', async () => {
    const webp = await solid(1440, 960, { r: 10, g: 200, b: 30 }).webp({ quality: 90 }).toBuffer();
    const t = await preprocessImage(webp, spec);
    expect(at(t, 1, 112, 112)).toBeCloseTo(norm(200, 1), 1);
  });

  test.each([
    ['an empty array', new Uint8Array(0)],
    ['random bytes', crypto.getRandomValues(new Uint8Array(2048))],
    ['a truncated PNG', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])],
  ])('rejects %s with ImageDecodeError', async (_, bytes) => {
    const err = await preprocessImage(bytes, spec).catch((e) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(err.message).toStartWith('cannot decode image: ');
  });

  test.skipIf(!fixturesAvailable)(
    fixturesAvailable
      ? 'rejects a truncated camera JPEG'
      : `rejects a truncated camera JPEG (skipped: no fixtures at ${FIXTURE_IMAGES})`,
    async () => {
      const bytes = await fixture('exif-samples/jpg/corrupted.jpg');
      const err = await preprocessImage(bytes, spec).catch((e) => e);
      expect(err).toBeInstanceOf(ImageDecodeError);
      expect(err.message).toContain('Corrupt JPEG data');
    },
  );
});

describe('assembleBatch', () => {
  test('concatenates tensors in order', () => {
    const batch = assembleBatch([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    expect(Array.from(batch)).toEqual([1, 2, 3, 4]);
  });

  test('an empty list is an empty batch', () => {
    expect(assembleBatch([])).toHaveLength(0);
  });

  test('rejects tensors of different sizes', () => {
    expect(() => assembleBatch([new Float32Array(2), new Float32Array(3)])).toThrow(
      'tensor 1 has 3 values, the first has 2',
    );
  });
});
