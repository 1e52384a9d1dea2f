import { describe, expect, test } from 'bun:test';
import { softmax, topLabels, topLabelsPerRow } from './postprocess.ts';

const sum = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);

describe('softmax', () => {
  test('gives probabilities that sum to 1 and keep the logits’ order', () => {
    const probs = softmax([1, 3, 2, -4]);
    expect(sum(probs)).toBeCloseTo(1, 12);
    expect(probs[1]).toBeGreaterThan(probs[2] as number);
    expect(probs[2]).toBeGreaterThan(probs[0] as number);
    expect(probs[0]).toBeGreaterThan(probs[3] as number);
    // e^1 / (e^1 + e^3 + e^2 + e^-4)
    expect(probs[0]).toBeCloseTo(Math.E / (Math.E + Math.E ** 3 + Math.E ** 2 + Math.E ** -4), 12);
  });

  test('is uniform for equal logits', () => {
    expect(Array.from(softmax([7, 7, 7, 7]))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  test('does not overflow on large logits', () => {
    const probs = softmax(new Float32Array([1000, 1001]));
    expect(probs[0]).toBeCloseTo(1 / (1 + Math.E), 12);
    expect(probs[1]).toBeCloseTo(Math.E / (1 + Math.E), 12);
  });
});

describe('topLabels', () => {
  const labels = ['a', 'b', 'c', 'd', 'e'];
  // softmax of these: e≈0.64, c≈0.24, a≈0.087, b≈0.032, d≈0.0005
  const logits = [2, 1, 3, -3, 4];

  test('orders by score, best first', () => {
    const tags = topLabels(logits, labels, { topK: 5, minScore: 0 });
    expect(tags.map((t) => t.label)).toEqual(['e', 'c', 'a', 'b', 'd']);
    expect(sum(tags.map((t) => t.score))).toBeCloseTo(1, 12);
  });

  test('keeps at most k', () => {
    expect(topLabels(logits, labels, { topK: 2, minScore: 0 }).map((t) => t.label)).toEqual([
      'e',
      'c',
    ]);
  });

  test('drops labels below the minimum score', () => {
    const tags = topLabels(logits, labels, { topK: 5, minScore: 0.05 });
    expect(tags.map((t) => t.label)).toEqual(['e', 'c', 'a']);
    expect(tags.every((t) => t.score >= 0.05)).toBe(true);
  });

  test('a minimum above every score gives no labels', () => {
    expect(topLabels(logits, labels, { topK: 5, minScore: 0.9 })).toEqual([]);
  });

  test('ties keep class order', () => {
    const tags = topLabels([1, 5, 5, 1], ['w', 'x', 'y', 'z'], { topK: 2, minScore: 0 });
    expect(tags.map((t) => t.label)).toEqual(['x', 'y']);
  });

  test('rejects logits that do not match the labels', () => {
    expect(() => topLabels([1, 2], labels, { topK: 1, minScore: 0 })).toThrow(
      '2 logits but 5 labels',
    );
  });
});

describe('topLabelsPerRow', () => {
  test('splits a [N, classes] output into rows', () => {
    const data = new Float32Array([9, 0, 0, 0, 0, 9]);
    const rows = topLabelsPerRow(data, 2, ['p', 'q', 'r'], { topK: 1, minScore: 0 });
    expect(rows.map((tags) => tags.map((t) => t.label))).toEqual([['p'], ['r']]);
  });

  test('rejects an output of the wrong size', () => {
    expect(() =>
      topLabelsPerRow(new Float32Array(5), 2, ['p', 'q', 'r'], { topK: 1, minScore: 0 }),
    ).toThrow('output has 5 values, expected 2×3');
  });
});
