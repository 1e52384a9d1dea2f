import { describe, expect, test } from 'bun:test';
import { ALIGNED_SIZE } from './align.ts';
import { cosine, EMBEDDER_INPUT, embedderInput, l2Normalize } from './embed.ts';

const plane = ALIGNED_SIZE * ALIGNED_SIZE;

/** A 112×112 crop of one colour. */
const crop = (rgb: [number, number, number]) => {
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) data.set(rgb, i * 3);
  return data;
};

describe('embedderInput', () => {
  test('MobileFaceNet gets planar RGB, (x − 127.5) / 128', () => {
    const t = embedderInput(crop([255, 127, 0]), EMBEDDER_INPUT['face-embed-mobilefacenet']);
    expect(t).toHaveLength(3 * plane);
    expect(t[0]).toBeCloseTo(127.5 / 128, 6);
    expect(t[plane]).toBeCloseTo(-0.5 / 128, 6);
    expect(t[2 * plane + plane - 1]).toBeCloseTo(-127.5 / 128, 6);
  });

  test('SFace gets planar RGB 0–255, unnormalised, as OpenCV’s FaceRecognizerSF feeds it', () => {
    const t = embedderInput(crop([200, 100, 50]), EMBEDDER_INPUT['face-embed-sface']);
    expect([t[0], t[plane], t[2 * plane]]).toEqual([200, 100, 50]);
  });

  test('puts blue first for a BGR convention', () => {
    const t = embedderInput(crop([200, 100, 50]), { channelOrder: 'bgr', mean: 0, scale: 1 });
    expect([t[0], t[plane], t[2 * plane]]).toEqual([50, 100, 200]);
  });

  test('rejects a crop of the wrong size', () => {
    expect(() =>
      embedderInput(new Uint8Array(10), EMBEDDER_INPUT['face-embed-mobilefacenet']),
    ).toThrow(`the crop has 10 values, expected ${plane * 3}`);
  });
});

describe('l2Normalize', () => {
  test('gives a unit vector in the same direction', () => {
    const v = l2Normalize(new Float32Array([3, 0, -4]));
    expect(v).toEqual([0.6, 0, -0.8]);
    expect(cosine(v, v)).toBeCloseTo(1, 12);
  });

  test.each([
    ['a zero vector', [0, 0, 0]],
    ['a NaN', [1, Number.NaN]],
    ['an infinity', [1, Number.POSITIVE_INFINITY]],
  ])('rejects %s', (_, v) => {
    expect(() => l2Normalize(v)).toThrow(RangeError);
  });
});

describe('cosine', () => {
  test('of unit vectors is their dot product', () => {
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([0.6, 0.8], [0.6, 0.8])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [-1, 0])).toBe(-1);
  });
});
