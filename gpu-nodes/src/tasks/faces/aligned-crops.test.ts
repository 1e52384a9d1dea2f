import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { ARCFACE_REFERENCE, estimateSimilarity, warpFace } from './align.ts';
import { alignedCrops, detectionPixelsSuffice } from './aligned-crops.ts';
import type { FaceCandidate } from './postprocess.ts';
import { type DetectionImage, decodeForDetection, decodeRgb, type RgbImage } from './preprocess.ts';

/** A smooth colour field with some texture, as a PNG (a face crop of it is not flat). */
async function photo(width: number, height: number): Promise<Uint8Array> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = 128 + 100 * Math.sin(x / 9) * Math.cos(y / 7);
    }
  }
  return new Uint8Array(
    await sharp(data, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

/** A face whose landmarks are the ArcFace reference scaled by `scale` and moved to (x, y). */
function face(scale: number, x: number, y: number): FaceCandidate {
  const landmarks = ARCFACE_REFERENCE.map(([lx, ly]): [number, number] => [
    x + lx * scale,
    y + ly * scale,
  ]) as FaceCandidate['landmarks'];
  return { x, y, width: 112 * scale, height: 112 * scale, landmarks, score: 0.9 };
}

/** `decodeRgb` of `bytes`, counting its calls. */
function countingDecoder(bytes: Uint8Array) {
  const counter = {
    calls: 0,
    decode: (): Promise<RgbImage> => {
      counter.calls++;
      return decodeRgb(bytes);
    },
  };
  return counter;
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) =>
  a.reduce((sum, v, i) => sum + Math.abs(v - (b[i] as number)), 0) / a.length;

describe('alignedCrops', () => {
  test('crops large faces from the detection pixels without a full-size decode', async () => {
    const bytes = await photo(1440, 960);
    const detection = await decodeForDetection(bytes, 960);
    const full = countingDecoder(bytes);
    // 3× the crop in the image, 2× in the detection pixels: the warp shrinks either way.
    const faces = [face(3, 200, 100), face(4, 900, 300)];
    const crops = await alignedCrops(faces, detection, full.decode);
    expect(full.calls).toBe(0);
    const image = await decodeRgb(bytes);
    for (const [i, f] of faces.entries()) {
      const fromFull = warpFace(image, estimateSimilarity(f.landmarks, ARCFACE_REFERENCE));
      expect(meanAbsDiff(crops[i] as Uint8Array, fromFull)).toBeLessThan(2);
    }
  });

  test('decodes the full size once, for the faces that need its pixels', async () => {
    const bytes = await photo(1440, 960);
    const detection = await decodeForDetection(bytes, 960);
    const full = countingDecoder(bytes);
    // Two faces smaller than the crop (enlarged by the warp) and one large one.
    const faces = [face(0.4, 100, 100), face(3, 500, 300), face(0.5, 1200, 700)];
    const crops = await alignedCrops(faces, detection, full.decode);
    expect(full.calls).toBe(1);
    const image = await decodeRgb(bytes);
    for (const i of [0, 2]) {
      const f = faces[i] as FaceCandidate;
      expect(crops[i]).toEqual(warpFace(image, estimateSimilarity(f.landmarks, ARCFACE_REFERENCE)));
    }
  });

  test('an image enlarged for detection is cropped from its own pixels', async () => {
    const bytes = await photo(480, 320);
    const detection = await decodeForDetection(bytes, 960);
    const full = countingDecoder(bytes);
    const f = face(2, 100, 50);
    const [crop] = await alignedCrops([f], detection, full.decode);
    expect(full.calls).toBe(1);
    const image = await decodeRgb(bytes);
    expect(crop).toEqual(warpFace(image, estimateSimilarity(f.landmarks, ARCFACE_REFERENCE)));
  });

  test('no faces, no decode', async () => {
    const detection: DetectionImage = {
      pixels: { data: new Uint8Array(96 * 64 * 3), width: 96, height: 64 },
      width: 1440,
      height: 960,
    };
    const full = countingDecoder(new Uint8Array(0));
    expect(await alignedCrops([], detection, full.decode)).toEqual([]);
    expect(full.calls).toBe(0);
  });
});

describe('detectionPixelsSuffice', () => {
  const t = (scale: number) => ({ a: scale * 0.8, b: scale * 0.6, tx: 0, ty: 0 });

  test.each([
    ['the image at its own size', 1, 1, 3, true],
    ['a reduced image, the warp shrinking', 2 / 3, 2 / 3, 0.7, true],
    ['a reduced image, the warp at scale', 2 / 3, 2 / 3, 1, true],
    ['a reduced image, the warp enlarging', 2 / 3, 2 / 3, 1.2, false],
    ['an enlarged image', 2, 2, 0.5, false],
  ])('%s', (_, kx, ky, scale, expected) => {
    expect(detectionPixelsSuffice(kx, ky, t(scale))).toBe(expected);
  });
});
