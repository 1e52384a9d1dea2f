import { InferenceError, type TensorOutput } from '../../inference/onnx-session.ts';

// CLIP compares embeddings by cosine similarity; stored L2-normalised, a dot product is the
// cosine (events.ts: ImageEmbeddingComputed.vector is "L2-normalised").

/**
 * Splits a batched embedding output into one row per item.
 * @throws InferenceError if the tensor is not float32 `[n, D]` or `[n, 1, D]`.
 */
export function embeddingRows(
  output: TensorOutput | undefined,
  n: number,
  model: string,
): Float32Array[] {
  const dims = output?.dims ?? [];
  const flat = dims.length === 2 || (dims.length === 3 && dims[1] === 1);
  if (output?.type !== 'float32' || !flat || dims[0] !== n) {
    throw new InferenceError(
      `${model}: expected a float32 embedding [${n}, D] or [${n}, 1, D], got ${output?.type} [${dims}]`,
    );
  }
  const width = dims.at(-1) as number;
  return Array.from({ length: n }, (_, i) => output.data.subarray(i * width, (i + 1) * width));
}

/**
 * `vector / ‖vector‖₂` as plain numbers (what events carry), or null for a vector that cannot
 * be normalised (all zeros, NaN or infinite): a broken result, never to be stored.
 */
export function l2Normalize(vector: ArrayLike<number>): number[] | null {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] as number) ** 2;
  const norm = Math.sqrt(sum);
  if (!(norm > 0 && Number.isFinite(norm))) return null;
  return Array.from(vector, (v) => v / norm);
}
