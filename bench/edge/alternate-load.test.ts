import { describe, expect, test } from 'bun:test';
import { failures, latencyAt } from './alternate-load.ts';

describe('latencyAt', () => {
  // 10 µs buckets: bucket 150 is 1.5 ms.
  const histogram = new Map([
    [300, 1],
    [100, 50],
    [150, 48],
    [90_000, 1],
  ]);

  test('reads quantiles off the merged histogram, in milliseconds', () => {
    expect(latencyAt(histogram, 0.5)).toBe(1);
    expect(latencyAt(histogram, 0.51)).toBe(1.5);
    expect(latencyAt(histogram, 0.98)).toBe(1.5);
    expect(latencyAt(histogram, 0.99)).toBe(3);
    expect(latencyAt(histogram, 1)).toBe(900);
  });

  test('an empty histogram has no latency', () => {
    expect(latencyAt(new Map(), 0.5)).toBe(0);
  });
});

test('failures counts non-2xx answers, errors and timeouts alike', () => {
  expect(failures({ non2xx: 0, errors: 0, timeouts: 0 })).toBe(0);
  expect(failures({ non2xx: 1, errors: 2, timeouts: 3 })).toBe(6);
});
