import { describe, expect, test } from 'bun:test';
import {
  ALIGNED_SIZE,
  ARCFACE_REFERENCE,
  applySimilarity,
  estimateSimilarity,
  type Similarity,
  warpFace,
} from './align.ts';
import type { RgbImage } from './preprocess.ts';

/** The similarity with scale `s`, rotation `deg` degrees and translation (tx, ty). */
const similarity = (s: number, deg: number, tx: number, ty: number): Similarity => {
  const r = (deg * Math.PI) / 180;
  return { a: s * Math.cos(r), b: s * Math.sin(r), tx, ty };
};

/** Sum of squared distances between `t(from)` and `to`. */
const squaredError = (t: Similarity, from: readonly [number, number][], to: typeof from) =>
  from.reduce((sum, p, i) => {
    const [x, y] = applySimilarity(t, p);
    const [u, v] = to[i] as [number, number];
    return sum + (x - u) ** 2 + (y - v) ** 2;
  }, 0);

describe('estimateSimilarity', () => {
  test('recovers a known scale, rotation and translation exactly', () => {
    const truth = similarity(0.37, -23, 41.5, -7.25);
    // Landmarks of a face that `truth` maps onto the reference: apply its inverse.
    const det = truth.a ** 2 + truth.b ** 2;
    const inverse: Similarity = {
      a: truth.a / det,
      b: -truth.b / det,
      tx: -(truth.a * truth.tx + truth.b * truth.ty) / det,
      ty: -(-truth.b * truth.tx + truth.a * truth.ty) / det,
    };
    const landmarks = ARCFACE_REFERENCE.map((p) => applySimilarity(inverse, p));
    const t = estimateSimilarity(landmarks, ARCFACE_REFERENCE);
    expect(t.a).toBeCloseTo(truth.a, 10);
    expect(t.b).toBeCloseTo(truth.b, 10);
    expect(t.tx).toBeCloseTo(truth.tx, 8);
    expect(t.ty).toBeCloseTo(truth.ty, 8);
    // Warping the landmarks with it lands them on the reference points.
    landmarks.forEach((p, i) => {
      const [x, y] = applySimilarity(t, p);
      expect(
        Math.hypot(x - (ARCFACE_REFERENCE[i]?.[0] ?? 0), y - (ARCFACE_REFERENCE[i]?.[1] ?? 0)),
      ).toBeLessThan(1e-9);
    });
  });

  test('maps the reference onto itself with the identity', () => {
    expect(estimateSimilarity(ARCFACE_REFERENCE, ARCFACE_REFERENCE)).toEqual({
      a: expect.closeTo(1, 12),
      b: expect.closeTo(0, 12),
      tx: expect.closeTo(0, 10),
      ty: expect.closeTo(0, 10),
    });
  });

  test('is the least-squares fit for landmarks that no similarity maps exactly', () => {
    // A smiling, slightly turned face: the mouth wider and the nose off-centre.
    const landmarks: [number, number][] = [
      [210, 305],
      [262, 301],
      [240, 336],
      [212, 362],
      [270, 359],
    ];
    const to = ARCFACE_REFERENCE as [number, number][];
    const best = estimateSimilarity(landmarks, to);
    const error = squaredError(best, landmarks, to);
    expect(error).toBeGreaterThan(1);
    for (const key of ['a', 'b', 'tx', 'ty'] as const) {
      for (const delta of [-1e-3, 1e-3]) {
        const nudged = { ...best, [key]: best[key] + delta };
        expect(squaredError(nudged, landmarks, to)).toBeGreaterThan(error);
      }
    }
  });

  test('never reflects: mirrored landmarks get a rotation, not a flip', () => {
    const mirrored = ARCFACE_REFERENCE.map(([x, y]): [number, number] => [112 - x, y]);
    const t = estimateSimilarity(mirrored, ARCFACE_REFERENCE);
    // The reflection x → 112 − x would fit exactly; the best rotation leaves the eyes and the
    // mouth corners swapped, far from their reference points.
    expect(squaredError(t, mirrored, ARCFACE_REFERENCE as [number, number][])).toBeGreaterThan(
      1000,
    );
  });

  test('rejects lists of different lengths, single points and coincident points', () => {
    expect(() => estimateSimilarity([[0, 0]], [[1, 1]])).toThrow(RangeError);
    expect(() => estimateSimilarity(ARCFACE_REFERENCE, ARCFACE_REFERENCE.slice(1))).toThrow(
      RangeError,
    );
    expect(() =>
      estimateSimilarity(
        ARCFACE_REFERENCE.map(() => [3, 3]),
        ARCFACE_REFERENCE,
      ),
    ).toThrow('the source points coincide');
  });
});

/** An image whose pixel (x, y) is (x mod 256, y mod 256, (x + y) mod 256). */
function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      data.set([x % 256, y % 256, (x + y) % 256], (y * width + x) * 3);
  }
  return { data, width, height };
}

const pixel = (crop: Uint8Array, x: number, y: number) =>
  Array.from(crop.subarray((y * ALIGNED_SIZE + x) * 3, (y * ALIGNED_SIZE + x) * 3 + 3));

describe('warpFace', () => {
  test('a translation copies pixels from the offset', () => {
    const image = gradient(300, 200);
    // Crop pixel (u, v) shows image pixel (u + 50, v + 20).
    const crop = warpFace(image, { a: 1, b: 0, tx: -50, ty: -20 });
    expect(crop).toHaveLength(ALIGNED_SIZE * ALIGNED_SIZE * 3);
    expect(pixel(crop, 0, 0)).toEqual([50, 20, 70]);
    expect(pixel(crop, 111, 111)).toEqual([161, 131, 36]); // (161 + 131) mod 256
  });

  test('a 90° rotation samples the rotated source', () => {
    const image = gradient(300, 200);
    // x' = −y + 150, y' = x: crop pixel (u, v) shows image pixel (v, 150 − u).
    const crop = warpFace(image, { a: 0, b: 1, tx: 150, ty: 0 });
    expect(pixel(crop, 10, 40)).toEqual([40, 140, 180]);
  });

  test('interpolates bilinearly between pixels', () => {
    const image = gradient(300, 200);
    const crop = warpFace(image, { a: 1, b: 0, tx: -10.5, ty: -20.25 });
    // Between x 10 and 11, y 20 and 21: 10.5 and 20.25, rounded.
    expect(pixel(crop, 0, 0).slice(0, 2)).toEqual([11, 20]);
  });

  test('is black outside the image, as OpenCV’s BORDER_CONSTANT', () => {
    const image = { data: new Uint8Array(10 * 10 * 3).fill(200), width: 10, height: 10 };
    const crop = warpFace(image, { a: 1, b: 0, tx: 0, ty: 0 });
    expect(pixel(crop, 5, 5)).toEqual([200, 200, 200]);
    expect(pixel(crop, 50, 50)).toEqual([0, 0, 0]);
  });

  test('averages a large face instead of aliasing it', () => {
    // A one-pixel black/white checkerboard shrunk 6×: plain bilinear sampling would hit only
    // black or only white pixels (sample positions 6 px apart); averaging gives grey.
    const size = ALIGNED_SIZE * 6;
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++)
        data.fill((x + y) % 2 ? 255 : 0, (y * size + x) * 3, (y * size + x) * 3 + 3);
    }
    const crop = warpFace({ data, width: size, height: size }, { a: 1 / 6, b: 0, tx: 0, ty: 0 });
    for (const [u, v] of [
      [10, 10],
      [56, 80],
      [100, 3],
    ] as const) {
      expect(Math.abs((pixel(crop, u, v)[0] as number) - 127.5)).toBeLessThan(20);
    }
  });

  test('rejects a degenerate transform', () => {
    expect(() => warpFace(gradient(4, 4), { a: 0, b: 0, tx: 0, ty: 0 })).toThrow(RangeError);
  });
});
