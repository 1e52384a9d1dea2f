import { describe, expect, test } from 'bun:test';
import {
  decodeYunet,
  iou,
  nonMaxSuppression,
  YUNET_STRIDES,
  type YunetOutputs,
} from './postprocess.ts';

/** Empty YuNet outputs for a `width`×`height` input: every score 0, every offset 0. */
function emptyOutputs(width: number, height: number): YunetOutputs {
  const outputs: YunetOutputs = {};
  for (const s of YUNET_STRIDES) {
    const anchors = (width / s) * (height / s);
    outputs[`cls_${s}`] = new Float32Array(anchors);
    outputs[`obj_${s}`] = new Float32Array(anchors);
    outputs[`bbox_${s}`] = new Float32Array(anchors * 4);
    outputs[`kps_${s}`] = new Float32Array(anchors * 10);
  }
  return outputs;
}

/** Sets one anchor of stride `s` at grid cell (col, row). */
function setAnchor(
  outputs: YunetOutputs,
  width: number,
  s: number,
  [col, row]: [number, number],
  values: { cls: number; obj: number; bbox: number[]; kps: number[] },
) {
  const i = row * (width / s) + col;
  (outputs[`cls_${s}`] as Float32Array)[i] = values.cls;
  (outputs[`obj_${s}`] as Float32Array)[i] = values.obj;
  (outputs[`bbox_${s}`] as Float32Array).set(values.bbox, i * 4);
  (outputs[`kps_${s}`] as Float32Array).set(values.kps, i * 10);
}

describe('decodeYunet', () => {
  // 64×32: stride 8 has an 8×4 grid, stride 16 4×2, stride 32 2×1.
  const W = 64;
  const H = 32;

  test('decodes a box and landmarks around its grid cell, row-major, as OpenCV does', () => {
    const outputs = emptyOutputs(W, H);
    // Stride 8, column 5, row 2: index 2·8 + 5 = 21.
    setAnchor(outputs, W, 8, [5, 2], {
      cls: 0.81,
      obj: 1,
      bbox: [0.5, 0.25, Math.log(2), Math.log(3)],
      kps: [0, 0, 1, 0, 0.5, 0.5, -0.25, 1, 1.25, 1],
    });
    const [face, ...rest] = decodeYunet(outputs, W, H, 0.5);
    expect(rest).toEqual([]);
    expect(face?.score).toBeCloseTo(0.9, 6); // sqrt(0.81 · 1)
    // Centre ((5 + 0.5)·8, (2 + 0.25)·8) = (44, 18); size (2·8, 3·8) = (16, 24).
    expect(face?.x).toBeCloseTo(44 - 8, 4);
    expect(face?.y).toBeCloseTo(18 - 12, 4);
    expect(face?.width).toBeCloseTo(16, 4);
    expect(face?.height).toBeCloseTo(24, 4);
    const expected = [
      [40, 16],
      [48, 16],
      [44, 20],
      [38, 24],
      [50, 24],
    ];
    face?.landmarks.forEach(([x, y], k) => {
      expect(x).toBeCloseTo(expected[k]?.[0] as number, 4);
      expect(y).toBeCloseTo(expected[k]?.[1] as number, 4);
    });
  });

  test('scales offsets by the stride of the head that predicted them', () => {
    const outputs = emptyOutputs(W, H);
    setAnchor(outputs, W, 32, [1, 0], {
      cls: 1,
      obj: 1,
      bbox: [0.5, 0.5, 0, 0],
      kps: Array(10).fill(0),
    });
    const [face] = decodeYunet(outputs, W, H, 0.5);
    // Centre (1.5·32, 0.5·32) = (48, 16), size 32×32.
    expect(face).toMatchObject({ x: 32, y: 0, width: 32, height: 32 });
    expect(face?.landmarks[0]).toEqual([32, 0]);
  });

  test('keeps scores at or above the threshold and clamps cls and obj to [0, 1]', () => {
    const outputs = emptyOutputs(W, H);
    const zero = { bbox: [0, 0, 0, 0], kps: Array(10).fill(0) };
    setAnchor(outputs, W, 8, [0, 0], { cls: 0.49, obj: 1, ...zero }); // 0.7
    setAnchor(outputs, W, 8, [1, 0], { cls: 0.48, obj: 1, ...zero }); // 0.69…
    setAnchor(outputs, W, 16, [0, 0], { cls: 1.5, obj: 1.2, ...zero }); // clamped: 1
    setAnchor(outputs, W, 16, [1, 0], { cls: -0.5, obj: 1, ...zero }); // clamped: 0
    const scores = decodeYunet(outputs, W, H, 0.7).map((f) => f.score);
    expect(scores).toHaveLength(2);
    expect(scores[0]).toBeCloseTo(0.7, 6);
    expect(scores[1]).toBe(1);
  });

  test('finds nothing in an all-zero output', () => {
    expect(decodeYunet(emptyOutputs(W, H), W, H, 0.01)).toEqual([]);
  });

  test('rejects outputs that do not match the grid of the input size', () => {
    expect(() => decodeYunet(emptyOutputs(W, H), 96, 32, 0.5)).toThrow(
      'YuNet output cls_8 has 32 values, the grid needs 48',
    );
    const { kps_32: _, ...missing } = emptyOutputs(W, H);
    expect(() => decodeYunet(missing, W, H, 0.5)).toThrow('YuNet output kps_32 is missing');
  });
});

describe('iou', () => {
  test('is 1 for the same box, 0 for disjoint or touching boxes', () => {
    const a = { x: 0, y: 0, width: 10, height: 10 };
    expect(iou(a, a)).toBe(1);
    expect(iou(a, { x: 10, y: 0, width: 10, height: 10 })).toBe(0);
    expect(iou(a, { x: 20, y: 20, width: 5, height: 5 })).toBe(0);
  });

  test('is intersection over union', () => {
    // Overlap 5×10 = 50; union 100 + 100 − 50 = 150.
    expect(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 })).toBe(
      50 / 150,
    );
    // A box inside another: the small one's area over the large one's.
    expect(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 2, y: 2, width: 5, height: 5 })).toBe(
      25 / 100,
    );
  });

  test('is 0 for empty boxes', () => {
    expect(iou({ x: 0, y: 0, width: 0, height: 0 }, { x: 0, y: 0, width: 0, height: 0 })).toBe(0);
  });
});

describe('nonMaxSuppression', () => {
  const box = (x: number, score: number, id: string) => ({
    x,
    y: 0,
    width: 10,
    height: 10,
    score,
    id,
  });

  test('keeps the best of overlapping boxes and every box that overlaps none kept', () => {
    const kept = nonMaxSuppression(
      [box(0, 0.8, 'a'), box(2, 0.9, 'b'), box(30, 0.7, 'c'), box(4, 0.95, 'd')],
      0.3,
      10,
    );
    // d (0.95) suppresses b (IoU 8·10/120 ≈ 0.67) and a (IoU 6·10/140 ≈ 0.43); c is alone.
    expect(kept.map((k) => k.id)).toEqual(['d', 'c']);
  });

  test('an overlap at the threshold is kept, above it suppressed', () => {
    // IoU of boxes 5 px apart: 50 / 150 = 1/3.
    const items = [box(0, 0.9, 'a'), box(5, 0.8, 'b')];
    expect(nonMaxSuppression(items, 1 / 3, 10)).toHaveLength(2);
    expect(nonMaxSuppression(items, 0.33, 10)).toHaveLength(1);
  });

  test('returns at most topK, best first, and ties keep input order', () => {
    const items = [box(0, 0.5, 'a'), box(20, 0.9, 'b'), box(40, 0.5, 'c'), box(60, 0.7, 'd')];
    expect(nonMaxSuppression(items, 0.3, 3).map((k) => k.id)).toEqual(['b', 'd', 'a']);
  });

  test('an empty list stays empty', () => {
    expect(nonMaxSuppression([], 0.3, 5)).toEqual([]);
  });
});
