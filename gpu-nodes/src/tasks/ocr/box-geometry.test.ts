import { describe, expect, test } from 'bun:test';
import {
  convexHull,
  insideConvexQuad,
  minAreaRect,
  orderClockwise,
  type Quad,
  rectCorners,
  unclipRect,
  type Vec,
} from './box-geometry.ts';

const close = (a: readonly Vec[], b: readonly Vec[], digits = 6) => {
  expect(a).toHaveLength(b.length);
  a.forEach((p, i) => {
    expect(p[0]).toBeCloseTo((b[i] as Vec)[0], digits);
    expect(p[1]).toBeCloseTo((b[i] as Vec)[1], digits);
  });
};

describe('convexHull', () => {
  test('drops interior and collinear points', () => {
    const points: Vec[] = [
      [0, 0],
      [2, 0],
      [4, 0],
      [4, 3],
      [0, 3],
      [2, 1],
      [1, 2],
      [2, 0],
    ];
    expect(new Set(convexHull(points).map((p) => p.join(',')))).toEqual(
      new Set(['0,0', '4,0', '4,3', '0,3']),
    );
  });

  test('fewer than three distinct points come back deduplicated', () => {
    expect(
      convexHull([
        [1, 1],
        [1, 1],
      ]),
    ).toEqual([[1, 1]]);
  });
});

describe('minAreaRect', () => {
  test('fits an axis-aligned block of pixels', () => {
    const points: Vec[] = [];
    for (let y = 10; y <= 14; y++) for (let x = 5; x <= 24; x++) points.push([x, y]);
    const rect = minAreaRect(points);
    expect(rect.center[0]).toBeCloseTo(14.5);
    expect(rect.center[1]).toBeCloseTo(12);
    expect([rect.width, rect.height].sort((a, b) => a - b)).toEqual([4, 19]);
  });

  test('fits a rotated rectangle exactly, not its axis-aligned bounding box', () => {
    const angle = (20 * Math.PI) / 180;
    const axis: Vec = [Math.cos(angle), Math.sin(angle)];
    const truth = { center: [50, 40] as Vec, axis, width: 60, height: 12 };
    const corners = rectCorners(truth);
    // Corners plus points along the edges, as a component's outline would give.
    const points: Vec[] = [...corners];
    for (let i = 0; i < 4; i++) {
      const a = corners[i] as Vec;
      const b = corners[(i + 1) % 4] as Vec;
      for (let t = 0.1; t < 1; t += 0.1)
        points.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
    }
    const rect = minAreaRect(points);
    expect(rect.width * rect.height).toBeCloseTo(60 * 12, 6);
    close(orderClockwise(rectCorners(rect)), orderClockwise(corners));
  });

  test('a single point is a rectangle of no size', () => {
    expect(minAreaRect([[3, 4]])).toEqual({ center: [3, 4], axis: [1, 0], width: 0, height: 0 });
  });
});

describe('unclipRect', () => {
  test('grows every side by area × ratio / perimeter (the DB unclip)', () => {
    const rect = { center: [0, 0] as Vec, axis: [1, 0] as Vec, width: 100, height: 20 };
    // 2000 × 1.5 / 240 = 12.5 on each side.
    expect(unclipRect(rect, 1.5)).toEqual({ ...rect, width: 125, height: 45 });
  });

  test('keeps the rectangle orientation and centre', () => {
    const rect = { center: [7, 9] as Vec, axis: [0.6, 0.8] as Vec, width: 30, height: 10 };
    const grown = unclipRect(rect, 2);
    expect(grown.center).toEqual(rect.center);
    expect(grown.axis).toEqual(rect.axis);
    expect(grown.width - rect.width).toBeCloseTo(grown.height - rect.height);
  });

  test('a degenerate rectangle stays as it is', () => {
    const rect = { center: [0, 0] as Vec, axis: [1, 0] as Vec, width: 0, height: 0 };
    expect(unclipRect(rect, 1.5)).toEqual(rect);
  });
});

describe('orderClockwise', () => {
  test('orders corners top-left, top-right, bottom-right, bottom-left', () => {
    expect(
      orderClockwise([
        [10, 5],
        [0, 0],
        [0, 5],
        [10, 0],
      ]),
    ).toEqual([
      [0, 0],
      [10, 0],
      [10, 5],
      [0, 5],
    ]);
  });

  test('orders a slightly rotated box', () => {
    const quad: Vec[] = [
      [101, 20],
      [1, 12],
      [0, 24],
      [100, 32],
    ];
    expect(orderClockwise(quad)).toEqual([
      [1, 12],
      [101, 20],
      [100, 32],
      [0, 24],
    ]);
  });
});

describe('insideConvexQuad', () => {
  const square: Quad = [
    [0, 0],
    [10, 0],
    [10, 10],
    [0, 10],
  ];

  test('inside, on the edge and just outside within the tolerance', () => {
    expect(insideConvexQuad(square, 5, 5)).toBe(true);
    expect(insideConvexQuad(square, 10, 5)).toBe(true);
    expect(insideConvexQuad(square, 10.4, 5)).toBe(true);
    expect(insideConvexQuad(square, 10.6, 5)).toBe(false);
    expect(insideConvexQuad(square, 5, -3, 0)).toBe(false);
  });

  test('works for either winding', () => {
    const reversed = [...square].reverse() as Quad;
    expect(insideConvexQuad(reversed, 5, 5)).toBe(true);
    expect(insideConvexQuad(reversed, 15, 5)).toBe(false);
  });
});
