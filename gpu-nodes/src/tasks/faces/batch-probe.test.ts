import { describe, expect, test } from 'bun:test';
import { ALIGNED_SIZE } from './align.ts';
import { batchMismatch, PROBE_TOLERANCE, probeCrops } from './batch-probe.ts';

const e = (i: number) => [0, 1, 2].map((j) => (i === j ? 1 : 0));
const alone = [e(0), e(1), e(2)];

describe('batchMismatch', () => {
  test('accepts a batch that gives each crop its own embedding', () => {
    expect(
      batchMismatch(
        alone,
        alone.map((v) => [...v]),
      ),
    ).toBeNull();
  });

  test('accepts differences within the tolerance', () => {
    const nudged = alone.map((v) => v.map((x) => x + PROBE_TOLERANCE.maxAbsDiff / 2));
    expect(batchMismatch(alone, nudged)).toBeNull();
  });

  test('rejects a batch whose rows are mixed', () => {
    // What adding the batch's mean row gives, normalised.
    const mean = [1 / 3, 1 / 3, 1 / 3];
    const mixed = alone.map((v) => {
      const sum = v.map((x, j) => x + (mean[j] as number));
      const norm = Math.hypot(...sum);
      return sum.map((x) => x / norm);
    });
    expect(batchMismatch(alone, mixed)).toStartWith('probe crop 0 batched differs from alone');
  });

  test('rejects a difference past the tolerance in one value', () => {
    const off = alone.map((v) => [...v]);
    (off[2] as number[])[0] = 3 * PROBE_TOLERANCE.maxAbsDiff;
    expect(batchMismatch(alone, off)).toStartWith('probe crop 2 batched differs from alone');
  });

  test('rejects a batch that answers another number of rows, or rows of another width', () => {
    expect(batchMismatch(alone, alone.slice(0, 2))).toBe('a batch of 3 gave 2 embeddings');
    expect(
      batchMismatch(
        alone,
        alone.map((v) => [...v, 0]),
      ),
    ).toStartWith('probe crop 0');
  });

  test('will not judge when the crops embed alike: mixing them would not show', () => {
    const alike = [e(0), e(0), e(1)];
    expect(batchMismatch(alike, alike)).toStartWith('probe crops 0 and 1 embed alike');
  });
});

describe('probeCrops', () => {
  test('are three different 112×112 RGB crops, the same on every call', () => {
    const crops = probeCrops();
    expect(crops).toHaveLength(3);
    for (const crop of crops) expect(crop).toHaveLength(ALIGNED_SIZE * ALIGNED_SIZE * 3);
    expect(crops[0]).not.toEqual(crops[1] as Uint8Array);
    expect(crops[1]).not.toEqual(crops[2] as Uint8Array);
    expect(probeCrops()).toEqual(crops);
  });
});
