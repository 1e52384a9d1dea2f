import type { TagScore } from '@aex/shared';

/**
 * Softmax of one row of logits, computed in float64 after subtracting the maximum so large
 * logits cannot overflow.
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const probs = new Float64Array(logits.length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] as number);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] as number) - max);
    probs[i] = e;
    sum += e;
  }
  for (let i = 0; i < probs.length; i++) probs[i] = (probs[i] as number) / sum;
  return probs;
}

export interface TopLabelsOptions {
  /** At most this many labels. */
  topK: number;
  /** Labels scoring below this probability are dropped. */
  minScore: number;
}

/**
 * The `topK` most probable labels of one row of logits with a probability of at least
 * `minScore`, best first. `labels[i]` names class `i`.
 * @throws Error if the row and the labels differ in length.
 */
export function topLabels(
  logits: ArrayLike<number>,
  labels: readonly string[],
  { topK, minScore }: TopLabelsOptions,
): TagScore[] {
  if (logits.length !== labels.length) {
    throw new Error(`${logits.length} logits but ${labels.length} labels`);
  }
  const probs = softmax(logits);
  const ranked: TagScore[] = [];
  probs.forEach((score, i) => {
    if (score >= minScore) ranked.push({ label: labels[i] as string, score });
  });
  // Ties keep class order (sort is stable), so the output is deterministic.
  ranked.sort((a, b) => b.score - a.score);
  return ranked.slice(0, Math.max(0, topK));
}

/**
 * Splits a `[N, classes]` output into per-image top labels.
 * @throws Error if `data` does not hold `rows` rows of `labels.length` classes.
 */
export function topLabelsPerRow(
  data: Float32Array,
  rows: number,
  labels: readonly string[],
  options: TopLabelsOptions,
): TagScore[][] {
  const classes = labels.length;
  if (data.length !== rows * classes) {
    throw new Error(`output has ${data.length} values, expected ${rows}×${classes}`);
  }
  return Array.from({ length: rows }, (_, row) =>
    topLabels(data.subarray(row * classes, (row + 1) * classes), labels, options),
  );
}
