import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { ImageDecodeError } from '../tags/preprocess.ts';
import { decodeUpright, detInputSize, detInputTensor, type RgbImage } from './det-preprocess.ts';

describe('detInputSize', () => {
  test.each([
    // A 1440 preview: the longer side to 960, both to multiples of 32.
    [1440, 960, 960, 640],
    [960, 1440, 640, 960],
    // Small images are not enlarged, only rounded to multiples of 32.
    [800, 300, 800, 288],
    [10, 10, 32, 32],
    // A sliver keeps at least 32 pixels.
    [3000, 100, 960, 32],
  ])('%d×%d → %d×%d', (w, h, ew, eh) => {
    expect(detInputSize(w, h)).toEqual({ width: ew, height: eh });
  });
});

const solid = (width: number, height: number, rgb: [number, number, number]): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height };
};

describe('detInputTensor', () => {
  test('planar B, G, R with ImageNet mean and std in that order (PaddleOCR on cv2 BGR)', async () => {
    const tensor = await detInputTensor(solid(32, 32, [255, 0, 0]), { width: 32, height: 32 });
    const plane = 32 * 32;
    expect(tensor).toHaveLength(3 * plane);
    expect(tensor[0]).toBeCloseTo((0 - 0.485) / 0.229, 5); // blue
    expect(tensor[plane]).toBeCloseTo((0 - 0.456) / 0.224, 5); // green
    expect(tensor[2 * plane]).toBeCloseTo((1 - 0.406) / 0.225, 5); // red
  });

  test('resizes to the requested size', async () => {
    const tensor = await detInputTensor(solid(100, 50, [0, 255, 0]), { width: 64, height: 32 });
    expect(tensor).toHaveLength(3 * 64 * 32);
    expect(tensor[64 * 32 + 100]).toBeCloseTo((1 - 0.456) / 0.224, 5);
  });

  test('writes into a batch slot when given one, and refuses one of the wrong size', async () => {
    const size = { width: 32, height: 32 };
    const batch = new Float32Array(2 * 3 * 32 * 32);
    const slot = batch.subarray(3 * 32 * 32);
    const tensor = await detInputTensor(solid(32, 32, [255, 0, 0]), size, slot);
    expect(tensor.buffer === batch.buffer && tensor.byteOffset === slot.byteOffset).toBe(true);
    const alone = await detInputTensor(solid(32, 32, [255, 0, 0]), size);
    expect(Array.from(slot)).toEqual(Array.from(alone));
    expect(batch[0]).toBe(0);
    const err = await detInputTensor(solid(32, 32, [0, 0, 0]), size, batch).catch((e) => e);
    expect(err).toBeInstanceOf(RangeError);
  });
});

describe('decodeUpright', () => {
  test('rejects what is not an image with an ImageDecodeError', async () => {
    for (const bytes of [new Uint8Array(0), new Uint8Array([1, 2, 3, 4])]) {
      const err = await decodeUpright(bytes).catch((e) => e);
      expect(err).toBeInstanceOf(ImageDecodeError);
      expect(err.message).toStartWith('cannot decode image: ');
    }
  });

  test('applies the EXIF orientation', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: 'red' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const image = await decodeUpright(new Uint8Array(jpeg));
    expect([image.width, image.height]).toEqual([20, 40]);
  });

  test('puts transparency on white and shrinks big images', async () => {
    const png = await sharp({
      create: {
        width: 3000,
        height: 1000,
        channels: 4,
        background: { r: 0, g: 0, b: 0, alpha: 0 },
      },
    })
      .png()
      .toBuffer();
    const image = await decodeUpright(new Uint8Array(png));
    expect([image.width, image.height]).toEqual([2048, 683]);
    expect(image.data.length).toBe(2048 * 683 * 3);
    expect(Array.from(image.data.subarray(0, 3))).toEqual([255, 255, 255]);
  });
});
