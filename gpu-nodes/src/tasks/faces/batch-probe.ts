import { InferenceError } from '../../inference/onnx-session.ts';
import { ALIGNED_SIZE } from './align.ts';

// A graph whose batch dimension we freed is trusted only once it has shown, on crops unlike each
// other, that a batch gives each face what a run of its own gives it. That covers what the
// rewrite (batch-graph.ts) could not prove, and embedders we cannot inspect (SFace).

/** A batched embedding this close to the face's own run (cosine, and per value) is the same. */
export const PROBE_TOLERANCE = { cosine: 0.9999, maxAbsDiff: 1e-4 };

// Probe crops embedding more alike than this could hide a batch that mixes its rows. With
// MobileFaceNet the three crops below reach 0.71–0.83 to each other (pseudo-random noise crops
// 0.81–0.89); different people in the fixtures 0.26.
const DISTINCT_BELOW = 0.99;

/**
 * Three 112×112 interleaved RGB crops, each of stripes at its own angle and frequency per
 * channel: they are not faces, but any embedder maps them far apart.
 */
export function probeCrops(): Uint8Array[] {
  const size = ALIGNED_SIZE;
  return [0, 1, 2].map((k) => {
    const crop = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          const phase = (2 * Math.PI * ((k + 1) * x + (c + 1) * (2 - k) * y)) / size + k + c;
          crop[(y * size + x) * 3 + c] = Math.round(128 + 90 * Math.sin(phase));
        }
      }
    }
    return crop;
  });
}

/**
 * Why `run` cannot embed several faces in one run, or null when it can: the probe crops
 * embedded in one run must match their embeddings from a run each.
 * @param run L2-normalised embeddings of crops, in order, from one run.
 */
export async function probeBatching(
  run: (crops: readonly Uint8Array[]) => Promise<number[][]>,
): Promise<string | null> {
  const crops = probeCrops();
  const alone: number[][] = [];
  try {
    for (const crop of crops) alone.push(...(await run([crop])));
    return batchMismatch(alone, await run(crops));
  } catch (err) {
    if (!(err instanceof InferenceError)) throw err;
    return `a run of ${alone.length < crops.length ? 1 : crops.length} failed: ${err.message}`;
  }
}

/**
 * Why the probe crops' embeddings from one batched run (`batched`) cannot stand in for their
 * embeddings from a run each (`alone`), or null when they can. Both are L2-normalised, in the
 * same order.
 */
export function batchMismatch(alone: number[][], batched: number[][]): string | null {
  if (batched.length !== alone.length) {
    return `a batch of ${alone.length} gave ${batched.length} embeddings`;
  }
  for (let i = 0; i < alone.length; i++) {
    for (let j = i + 1; j < alone.length; j++) {
      const c = cosine(alone[i] as number[], alone[j] as number[]);
      if (!(c < DISTINCT_BELOW)) {
        return `probe crops ${i} and ${j} embed alike (cosine ${c.toFixed(4)}): a batch mixing them would not show`;
      }
    }
  }
  for (const [i, a] of alone.entries()) {
    const b = batched[i] as number[];
    const c = b.length === a.length ? cosine(a, b) : Number.NaN;
    const diff = Math.max(...a.map((v, j) => Math.abs(v - (b[j] ?? Number.NaN))));
    if (!(c >= PROBE_TOLERANCE.cosine && diff <= PROBE_TOLERANCE.maxAbsDiff)) {
      return `probe crop ${i} batched differs from alone (cosine ${c.toFixed(6)}, max difference ${diff.toExponential(2)})`;
    }
  }
  return null;
}

// The cosine of two L2-normalised vectors (embed.ts has it too, but imports this file).
function cosine(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);
}
