import { describe, expect, test } from 'bun:test';
import { componentRunEnds, labelComponents } from './components.ts';

// A mask from rows of '#' (set) and '.' (clear).
function mask(rows: string[]): { data: Uint8Array; width: number; height: number } {
  const width = rows[0]?.length ?? 0;
  const data = new Uint8Array(
    rows
      .join('')
      .split('')
      .map((c) => (c === '#' ? 1 : 0)),
  );
  return { data, width, height: rows.length };
}

function labelRows(rows: string[]): string[] {
  const { data, width, height } = mask(rows);
  const { labels } = labelComponents(data, width, height);
  return rows.map((_, y) =>
    Array.from(labels.subarray(y * width, (y + 1) * width), (l) =>
      l === 0 ? '.' : String(l),
    ).join(''),
  );
}

describe('labelComponents', () => {
  test('separate blobs get their own labels, numbered in reading order', () => {
    expect(labelRows(['##..#', '##..#', '.....', '..##.'])).toEqual([
      '11..2',
      '11..2',
      '.....',
      '..33.',
    ]);
  });

  test('pixels touching only at a corner are one component (8-connectivity)', () => {
    expect(labelRows(['#..', '.#.', '..#'])).toEqual(['1..', '.1.', '..1']);
  });

  test('a U whose arms meet only at the bottom is one component', () => {
    // The first pass gives the arms two labels; the bottom row must merge them.
    const { data, width, height } = mask(['#...#', '#...#', '#####']);
    const { labels, count } = labelComponents(data, width, height);
    expect(count).toBe(1);
    expect(new Set(labels.filter((l) => l !== 0))).toEqual(new Set([1]));
  });

  test('merges chains of provisional labels (a comb closed at the bottom)', () => {
    const rows = ['#.#.#.#.#', '#.#.#.#.#', '#########'];
    const { count } = labelComponents(mask(rows).data, 9, 3);
    expect(count).toBe(1);
  });

  test('a ring is one component; its hole stays background', () => {
    expect(labelRows(['###', '#.#', '###'])).toEqual(['111', '1.1', '111']);
  });

  test('an empty mask has no components', () => {
    expect(labelComponents(new Uint8Array(12), 4, 3).count).toBe(0);
  });

  test('many components grow the label table', () => {
    // 1,500 isolated pixels: more provisional labels than the table starts with.
    const width = 3000;
    const data = new Uint8Array(width);
    for (let x = 0; x < width; x += 2) data[x] = 1;
    expect(labelComponents(data, width, 1).count).toBe(1500);
  });

  test('a mask of the wrong size is refused', () => {
    expect(() => labelComponents(new Uint8Array(5), 2, 2)).toThrow(RangeError);
  });
});

describe('componentRunEnds', () => {
  test('gives the ends of each row run, per component', () => {
    const rows = ['.###.#', '..#..#'];
    const { data, width, height } = mask(rows);
    const ends = componentRunEnds(labelComponents(data, width, height), width);
    expect(ends).toEqual([
      [
        [1, 0],
        [3, 0],
        [2, 1],
      ],
      [
        [5, 0],
        [5, 1],
      ],
    ]);
  });
});
