import { describe, expect, test } from 'bun:test';
import { byteRangeOf } from './byte-range.ts';

describe('byteRangeOf (a file of 100 bytes)', () => {
  test('one range, open-ended, suffix, clamped to the end, with spaces', () => {
    const cases: Array<[string, { start: number; end: number }]> = [
      ['bytes=0-9', { start: 0, end: 9 }],
      ['bytes=10-', { start: 10, end: 99 }],
      ['bytes=-10', { start: 90, end: 99 }],
      ['bytes=-500', { start: 0, end: 99 }],
      ['bytes=90-1000', { start: 90, end: 99 }],
      [' bytes=5-5 ', { start: 5, end: 5 }],
    ];
    for (const [header, range] of cases) {
      expect({ header, range: byteRangeOf(header, 100) }).toEqual({ header, range });
    }
  });

  test('what is not one valid range is ignored: the whole file is sent', () => {
    for (const header of [
      undefined,
      'bytes=-',
      'bytes=9-1',
      'bytes=0-1,5-6',
      'items=0-1',
      'bytes=a-b',
      'bytes=99999999999999999999-',
      'bytes=-99999999999999999999',
    ]) {
      expect({ header, range: byteRangeOf(header, 100) }).toEqual({ header, range: undefined });
    }
  });

  test('a range that starts past the end, or asks for nothing, is unsatisfiable', () => {
    for (const header of ['bytes=100-', 'bytes=100-200', 'bytes=-0']) {
      expect({ header, range: byteRangeOf(header, 100) }).toEqual({
        header,
        range: 'unsatisfiable',
      });
    }
    expect(byteRangeOf('bytes=-5', 0)).toBe('unsatisfiable');
  });
});
