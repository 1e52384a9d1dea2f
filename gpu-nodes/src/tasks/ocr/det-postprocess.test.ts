import { describe, expect, test } from 'bun:test';
import type { Quad, Vec } from './box-geometry.ts';
import { boxesFromProbabilityMap, scaleBoxes, sortReadingOrder } from './det-postprocess.ts';

// A probability map with rectangles of given probability on a background of 0.05.
function map(
  width: number,
  height: number,
  rects: Array<[number, number, number, number, number]>,
) {
  const prob = new Float32Array(width * height).fill(0.05);
  for (const [x0, y0, x1, y1, p] of rects) {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) prob[y * width + x] = p;
  }
  return prob;
}

const sides = (q: Quad) => [
  Math.hypot(q[1][0] - q[0][0], q[1][1] - q[0][1]),
  Math.hypot(q[3][0] - q[0][0], q[3][1] - q[0][1]),
];

describe('boxesFromProbabilityMap', () => {
  test('one confident region gives one box, grown by the unclip', () => {
    // Pixels 10..49 × 20..29: a 39 × 9 rectangle of pixel centres; d = 351 × 2 / 96.
    const boxes = boxesFromProbabilityMap(map(64, 48, [[10, 20, 49, 29, 0.9]]), 64, 48);
    expect(boxes).toHaveLength(1);
    const [box] = boxes;
    expect(box?.score).toBeCloseTo(0.9, 5);
    const d = (39 * 9 * 2) / 96;
    const [w, h] = sides(box?.quad as Quad);
    expect(w).toBeCloseTo(39 + 2 * d, 4);
    expect(h).toBeCloseTo(9 + 2 * d, 4);
    expect(box?.quad[0][0]).toBeCloseTo(10 - d, 4);
    expect(box?.quad[0][1]).toBeCloseTo(20 - d, 4);
  });

  test('unclipRatio sets the growth (PaddleOCR 2 used 1.5)', () => {
    const [box] = boxesFromProbabilityMap(map(64, 48, [[10, 20, 49, 29, 0.9]]), 64, 48, {
      unclipRatio: 1.5,
    });
    const d = (39 * 9 * 1.5) / 96;
    expect(sides(box?.quad as Quad)[1]).toBeCloseTo(9 + 2 * d, 4);
  });

  test('drops a region whose mean probability is under the box threshold', () => {
    // Above the 0.3 pixel threshold, under the 0.6 box threshold.
    const prob = map(64, 48, [[10, 10, 40, 20, 0.5]]);
    expect(boxesFromProbabilityMap(prob, 64, 48)).toEqual([]);
    expect(boxesFromProbabilityMap(prob, 64, 48, { boxThreshold: 0.4 })).toHaveLength(1);
  });

  test('drops specks thinner than min_size', () => {
    // Two pixel rows: the rectangle of their centres is 1 high, under 3.
    expect(boxesFromProbabilityMap(map(64, 48, [[10, 10, 40, 11, 0.95]]), 64, 48)).toEqual([]);
  });

  test('separate regions give separate boxes; maxCandidates bounds them', () => {
    const prob = map(64, 48, [
      [5, 5, 30, 12, 0.9],
      [5, 30, 30, 40, 0.8],
    ]);
    expect(boxesFromProbabilityMap(prob, 64, 48)).toHaveLength(2);
    expect(boxesFromProbabilityMap(prob, 64, 48, { maxCandidates: 1 })).toHaveLength(1);
  });

  test('a map of the wrong size is refused', () => {
    expect(() => boxesFromProbabilityMap(new Float32Array(10), 4, 4)).toThrow(RangeError);
  });
});

describe('scaleBoxes', () => {
  test('maps pixel centres onto the image, clips, and drops boxes of 3 pixels or less', () => {
    const quad = (x0: number, y0: number, x1: number, y1: number): Quad => [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ];
    const boxes = scaleBoxes(
      [
        { quad: quad(-2, 1.5, 9.5, 3.5), score: 0.9 },
        { quad: quad(0, 0, 0.2, 5), score: 0.9 },
      ],
      { width: 10, height: 10 },
      { width: 100, height: 50 },
    );
    expect(boxes).toEqual([{ quad: quad(0, 10, 100, 20), score: 0.9 }]);
  });
});

describe('sortReadingOrder', () => {
  const at = (x: number, y: number) => ({
    quad: [
      [x, y],
      [x + 5, y],
      [x + 5, y + 5],
      [x, y + 5],
    ] as Quad,
  });
  const tops = (boxes: Array<{ quad: Quad }>) => boxes.map((b) => b.quad[0] as Vec);

  test('top to bottom, and left to right within a line', () => {
    const sorted = sortReadingOrder([at(50, 100), at(0, 104), at(10, 0), at(60, 2)]);
    expect(tops(sorted)).toEqual([
      [10, 0],
      [60, 2],
      [0, 104],
      [50, 100],
    ]);
  });
});
