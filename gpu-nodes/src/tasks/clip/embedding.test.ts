import { describe, expect, test } from 'bun:test';
import { InferenceError } from '../../inference/onnx-session.ts';
import { batches } from './clip-graph.ts';
import { embeddingRows, l2Normalize } from './embedding.ts';

describe('embeddingRows', () => {
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]);

  test('splits [N, D] and [N, 1, D] into N rows of D', () => {
    const flat = embeddingRows({ type: 'float32', data, dims: [2, 3] }, 2, 'm');
    const nested = embeddingRows({ type: 'float32', data, dims: [2, 1, 3] }, 2, 'm');
    expect(flat.map((r) => [...r])).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(nested.map((r) => [...r])).toEqual(flat.map((r) => [...r]));
  });

  test.each([
    ['another batch size', { type: 'float32', data, dims: [3, 2] }],
    ['a [N, 2, D] tensor', { type: 'float32', data, dims: [1, 2, 3] }],
    ['integers', { type: 'int32', data: Int32Array.from(data), dims: [2, 3] }],
    ['no output', undefined],
  ] as const)('refuses %s', (_what, output) => {
    expect(() => embeddingRows(output as never, 2, 'm')).toThrow(InferenceError);
  });
});

describe('l2Normalize', () => {
  test('scales to unit length', () => {
    expect(l2Normalize([3, 4])).toEqual([0.6, 0.8]);
  });

  test.each([[[0, 0, 0]], [[Number.NaN, 1]], [[Number.POSITIVE_INFINITY, 1]]])(
    'gives null for %p, which has no direction',
    (vector) => {
      expect(l2Normalize(vector)).toBeNull();
    },
  );
});

test('batches splits a count into runs of at most the limit', () => {
  expect(batches(0, 4)).toEqual([]);
  expect(batches(4, 4)).toEqual([4]);
  expect(batches(9, 4)).toEqual([4, 4, 1]);
  expect(batches(3, 1)).toEqual([1, 1, 1]);
});
