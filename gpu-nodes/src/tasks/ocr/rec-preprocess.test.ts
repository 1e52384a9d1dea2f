import { describe, expect, test } from 'bun:test';
import type { Quad } from './box-geometry.ts';
import type { RgbImage } from './det-preprocess.ts';
import { cropLine, lineWidth, planBatches, REC_HEIGHT, recBatchTensor } from './rec-preprocess.ts';

const rect = (x0: number, y0: number, x1: number, y1: number): Quad => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

// An image whose pixels come from `colour(x, y)`.
function image(
  width: number,
  height: number,
  colour: (x: number, y: number) => number[],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * 3);
  return { data, width, height };
}

// The crop's value at (x, y) in plane c (0 = blue, 1 = green, 2 = red).
const at = (crop: { data: Float32Array; width: number }, c: number, x: number, y: number) =>
  crop.data[c * REC_HEIGHT * crop.width + y * crop.width + x] as number;

describe('lineWidth', () => {
  test('keeps the aspect at height 48, within the cap', () => {
    expect(lineWidth(rect(0, 0, 100, 20), 1000)).toBe(240);
    expect(lineWidth(rect(0, 0, 100, 20), 200)).toBe(200);
  });

  test('a box 1.5 times taller than wide is read turned: its height becomes the width', () => {
    expect(lineWidth(rect(0, 0, 20, 100), 1000)).toBe(240);
    expect(lineWidth(rect(0, 0, 20, 29), 1000)).toBe(34);
  });
});

describe('cropLine', () => {
  test('cuts the box out, normalised to [-1, 1], planes B, G, R', () => {
    // Left half red, right half white.
    const img = image(200, 40, (x) => (x < 100 ? [255, 0, 0] : [255, 255, 255]));
    const crop = cropLine(img, rect(0, 0, 200, 40), 1000);
    expect(crop.width).toBe(240);
    expect(crop.data).toHaveLength(3 * REC_HEIGHT * 240);
    expect(at(crop, 0, 10, 24)).toBeCloseTo(-1, 5); // blue of red
    expect(at(crop, 2, 10, 24)).toBeCloseTo(1, 5); // red of red
    expect(at(crop, 0, 230, 24)).toBeCloseTo(1, 5); // white
  });

  test('a vertical line is turned so that its top is read first', () => {
    // Top half black, bottom half white, in a 20 × 100 box.
    const img = image(20, 100, (_, y) => (y < 50 ? [0, 0, 0] : [255, 255, 255]));
    const crop = cropLine(img, rect(0, 0, 20, 100), 1000);
    expect(crop.width).toBe(240);
    expect(at(crop, 1, 5, 24)).toBeCloseTo(-1, 5);
    expect(at(crop, 1, 235, 24)).toBeCloseTo(1, 5);
  });

  test('a rotated box is read along its own axis', () => {
    // A dark band 10 px thick at 30° through a white image, and a box along it.
    const angle = Math.PI / 6;
    const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
    const dist = (x: number, y: number) => -(x + 0.5 - 100) * uy + (y + 0.5 - 100) * ux;
    const img = image(200, 200, (x, y) => (Math.abs(dist(x, y)) < 5 ? [0, 0, 0] : [255, 255, 255]));
    const corner = (s: number, t: number): [number, number] => [
      100 + s * ux - t * uy,
      100 + s * uy + t * ux,
    ];
    const quad: Quad = [corner(-60, -15), corner(60, -15), corner(60, 15), corner(-60, 15)];
    const crop = cropLine(img, quad, 1000);
    expect(crop.width).toBe(192);
    // The band runs along the middle rows from end to end; the top and bottom rows are white.
    for (const x of [5, 96, 186]) {
      expect(at(crop, 0, x, 24)).toBeLessThan(-0.9);
      expect(at(crop, 0, x, 2)).toBeGreaterThan(0.9);
      expect(at(crop, 0, x, 45)).toBeGreaterThan(0.9);
    }
  });

  test('outside the image the edge repeats', () => {
    const img = image(10, 10, () => [0, 0, 0]);
    const crop = cropLine(img, rect(-20, -5, 30, 15), 1000);
    expect(Math.max(...crop.data)).toBeCloseTo(-1, 5);
  });
});

describe('planBatches', () => {
  test('groups by width, narrowest first, at most maxBatch a batch', () => {
    expect(planBatches([300, 100, 200, 50, 400], 2)).toEqual([[3, 1], [2, 0], [4]]);
    expect(planBatches([], 6)).toEqual([]);
  });
});

describe('recBatchTensor', () => {
  test('pads each crop on the right with zeros to the widest, at least 320', () => {
    const crop = (width: number, value: number) => ({
      data: new Float32Array(3 * REC_HEIGHT * width).fill(value),
      width,
    });
    const narrow = recBatchTensor([crop(10, 0.5)]);
    expect(narrow.width).toBe(320);
    const { data, width } = recBatchTensor([crop(400, 1), crop(10, -1)]);
    expect(width).toBe(400);
    const plane = REC_HEIGHT * 400;
    expect(data).toHaveLength(2 * 3 * plane);
    expect(data[2 * plane + 399]).toBe(1);
    // The second crop: its own pixels, then padding, in every plane.
    expect(data[3 * plane + 9]).toBe(-1);
    expect(data[3 * plane + 10]).toBe(0);
    expect(data[5 * plane + 47 * 400 + 9]).toBe(-1);
    expect(data[5 * plane + 47 * 400 + 399]).toBe(0);
  });
});
