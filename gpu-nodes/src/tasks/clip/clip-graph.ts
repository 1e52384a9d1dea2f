import { InferenceError, type OnnxSession, type ValueInfo } from '../../inference/onnx-session.ts';
import type { ModelEntry } from '../../models/registry.ts';

// What a CLIP ONNX graph looks like varies between the exports users download, so the tasks
// read it from the session instead of assuming it:
// - Immich's exporter (immich machine-learning/export, openclip.py) names the output
//   "embedding" and fixes the batch at 1 (its dynamic_axes are commented out).
// - Immich's newer ml-models exports (ci/graphs/ViT-B-32__openai) take a dynamic batch, name
//   the outputs "image_embedding" / "text_embedding", and the visual one takes uint8 NHWC
//   pixels, normalising inside the graph (Immich's visual.py feeds it raw RGB then).
// - Other exporters emit [N, 1, D] instead of [N, D].

/** How the visual graph wants its pixels. */
export interface ImageInput {
  name: string;
  /** `float32-nchw`: normalised planar floats (the registry's spec); `uint8-nhwc`: raw RGB. */
  layout: 'float32-nchw' | 'uint8-nhwc';
  /** A batch size the graph fixes, or null when it is free. */
  fixedBatch: number | null;
}

/**
 * The visual graph's image input: the registry's (float32 `[N,3,H,W]`) or the uint8
 * `[N,H,W,3]` variant of the same size.
 * @throws InferenceError naming what the graph declares if it is neither.
 */
export function imageInputOf(session: OnnxSession, entry: ModelEntry): ImageInput {
  const spec = entry.input;
  const input = session.inputs.find((i) => i.name === spec.name);
  const [, c, h, w] = spec.shape;
  if (input?.type === 'float32' && matches(input.shape, [c, h, w])) {
    return { name: input.name, layout: 'float32-nchw', fixedBatch: fixedDim(input.shape[0]) };
  }
  if (input?.type === 'uint8' && matches(input.shape, [h, w, c])) {
    return { name: input.name, layout: 'uint8-nhwc', fixedBatch: fixedDim(input.shape[0]) };
  }
  throw graphError(entry, session, `float32 [N,${c},${h},${w}] or uint8 [N,${h},${w},${c}]`);
}

/** The textual graph's token input; int64 is accepted too (OpenAI's own exports use it). */
export function textInputOf(
  session: OnnxSession,
  entry: ModelEntry,
): { name: string; type: 'int32' | 'int64'; fixedBatch: number | null } {
  const spec = entry.input;
  const input = session.inputs.find((i) => i.name === spec.name);
  const length = spec.shape[1];
  if ((input?.type === 'int32' || input?.type === 'int64') && matches(input.shape, [length])) {
    return { name: input.name, type: input.type, fixedBatch: fixedDim(input.shape[0]) };
  }
  throw graphError(entry, session, `int32 [N,${length}]`);
}

/** The embedding output: the one named like Immich's, else the only output. */
export function embeddingOutputOf(session: OnnxSession, entry: ModelEntry): string {
  const outputs = session.outputs;
  const named = outputs.find((o) =>
    ['embedding', 'image_embedding', 'text_embedding'].includes(o.name),
  );
  const output = named ?? (outputs.length === 1 ? outputs[0] : undefined);
  const rank = output?.shape.length;
  if (output?.type !== 'float32' || (rank !== 2 && !(rank === 3 && output.shape[1] === 1))) {
    throw graphError(entry, session, 'a float32 output [N,D] or [N,1,D]');
  }
  return output.name;
}

/** The batch sizes to run `count` items in, at most `limit` each. */
export function batches(count: number, limit: number): number[] {
  const sizes: number[] = [];
  for (let left = count; left > 0; left -= limit) sizes.push(Math.min(left, limit));
  return sizes;
}

function matches(shape: ValueInfo['shape'], rest: readonly (number | undefined)[]): boolean {
  return (
    shape.length === rest.length + 1 &&
    rest.every((d, i) => d === undefined || d === -1 || shape[i + 1] === d)
  );
}

function fixedDim(dim: number | string | undefined): number | null {
  return typeof dim === 'number' && dim > 0 ? dim : null;
}

// A file that hashes right can still be the wrong graph for its entry; one clear error at load
// beats garbage vectors for every image.
function graphError(entry: ModelEntry, session: OnnxSession, wanted: string): InferenceError {
  const describe = (v: readonly ValueInfo[]) =>
    v.map((i) => `${i.name} ${i.type} [${i.shape}]`).join(', ');
  return new InferenceError(
    `${entry.id}: the graph (inputs ${describe(session.inputs)}; outputs ` +
      `${describe(session.outputs)}) is not a CLIP encoder: wanted ${wanted}`,
  );
}
