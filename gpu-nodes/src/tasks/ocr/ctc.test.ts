import { describe, expect, test } from 'bun:test';
import { ctcGreedyDecode, recognizerClasses } from './ctc.ts';

describe('recognizerClasses', () => {
  test('puts the blank first and a space last, around the dictionary', () => {
    expect(recognizerClasses('a\nb\nc')).toEqual(['', 'a', 'b', 'c', ' ']);
  });

  test('a trailing newline and Windows line ends add no class', () => {
    expect(recognizerClasses('a\r\nb\r\n')).toEqual(['', 'a', 'b', ' ']);
  });

  test('keeps a character that is itself whitespace', () => {
    // ppocr_keys_v1.txt holds U+3000 (ideographic space) on a line of its own.
    expect(recognizerClasses('a\n\u3000\nb')).toEqual(['', 'a', '\u3000', 'b', ' ']);
  });
});

// One row of per-step probabilities from the index of the winning class at each step.
function steps(winners: number[], classes: number, p = 0.9): Float32Array {
  const out = new Float32Array(winners.length * classes).fill((1 - p) / (classes - 1));
  winners.forEach((c, t) => {
    out[t * classes + c] = p;
  });
  return out;
}

describe('ctcGreedyDecode', () => {
  const labels = ['', 'a', 'b', 'l', ' '];
  const dims = (n: number) => ({ steps: n, classes: labels.length });

  test('merges repeats and drops blanks', () => {
    const probs = steps([0, 1, 1, 0, 2, 2, 2, 0], 5);
    expect(ctcGreedyDecode(probs, dims(8), labels).text).toBe('ab');
  });

  test('a blank between two equal classes spells a double letter', () => {
    const probs = steps([3, 3, 0, 3, 4, 1], 5);
    expect(ctcGreedyDecode(probs, dims(6), labels).text).toBe('ll a');
  });

  test('confidence is the mean best probability of the characters kept', () => {
    const probs = steps([1, 1, 0, 2], 5);
    // 'a' at steps 0 (0.9, kept) and 1 (a repeat, not counted); 'b' at step 3, lowered to 0.5.
    probs[3 * 5 + 2] = 0.5;
    probs[3 * 5 + 0] = 0.4;
    const { text, confidence } = ctcGreedyDecode(probs, dims(4), labels);
    expect(text).toBe('ab');
    expect(confidence).toBeCloseTo((0.9 + 0.5) / 2, 6);
  });

  test('nothing but blanks reads as empty with zero confidence', () => {
    expect(ctcGreedyDecode(steps([0, 0, 0], 5), dims(3), labels)).toEqual({
      text: '',
      confidence: 0,
    });
  });

  test('reads the requested row of a batch', () => {
    const batch = new Float32Array([...steps([1, 0], 5), ...steps([2, 3], 5)]);
    expect(ctcGreedyDecode(batch, dims(2), labels, 0).text).toBe('a');
    expect(ctcGreedyDecode(batch, dims(2), labels, 1).text).toBe('bl');
  });

  test('a model whose classes do not match the dictionary is refused', () => {
    expect(() => ctcGreedyDecode(new Float32Array(6), { steps: 1, classes: 6 }, labels)).toThrow(
      RangeError,
    );
  });
});
