import type { ModelRef } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import {
  type ExecutionProvider,
  openOnnxSession,
  type TensorInput,
} from '../../inference/onnx-session.ts';
import { fileWithRole, verifyModelFiles } from '../../models/model-files.ts';
import { getModelEntry, type ModelEntry } from '../../models/registry.ts';
import { ImageDecodeError } from '../tags/preprocess.ts';
import type { InferenceTask, TaskOutcome } from '../task.ts';
import { batches, embeddingOutputOf, type ImageInput, imageInputOf } from './clip-graph.ts';
import { embeddingRows, l2Normalize } from './embedding.ts';
import { decodeClipPixels, toPlanarTensor } from './preprocess.ts';

/** The registry id of the CLIP image encoder. */
export const CLIP_VISUAL_MODEL_ID = 'clip-vit-b32-openai-visual';

export interface CreateClipImageTaskOptions {
  /** The directory holding `<model id>/` folders (AEX_MODEL_DIR). */
  modelDir: string;
  providers: readonly ExecutionProvider[];
  log: Logger;
  /** Images per session run; default 16, and never more than a graph with a fixed batch takes. */
  maxBatch?: number;
  intraOpThreads?: number;
}

/**
 * Loads the CLIP image encoder: checks its files (registry or pinned sha256), opens a session
 * on the first provider that works and checks the graph is a CLIP visual encoder.
 * The task's results are L2-normalised embeddings keyed by the shared CLIP embedding space
 * (the entry's `resultModel`), so they compare with the text encoder's.
 * @throws ModelUnavailableError if the files are missing or differ from their sums.
 * @throws InferenceError if no provider can open the model or it is not a CLIP image encoder.
 */
export async function createClipImageTask(
  options: CreateClipImageTaskOptions,
): Promise<InferenceTask<number[]>> {
  const requested = options.maxBatch ?? 16;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new RangeError(`maxBatch must be a whole number ≥ 1, got ${requested}`);
  }
  const entry = getModelEntry(CLIP_VISUAL_MODEL_ID);
  const spec = entry.preprocess;
  if (!spec) throw new Error(`${entry.id} has no image preprocessing in the registry`);
  const files = await verifyModelFiles(entry, options.modelDir);
  const session = await openOnnxSession({
    path: fileWithRole(files, 'model').path,
    providers: options.providers,
    log: options.log,
    model: `${entry.id}@${entry.version}`,
    intraOpThreads: options.intraOpThreads,
  });
  let input: ImageInput;
  let outputName: string;
  try {
    input = imageInputOf(session, entry);
    outputName = embeddingOutputOf(session, entry);
  } catch (err) {
    await session.close();
    throw err;
  }
  const maxBatch = Math.min(requested, input.fixedBatch ?? requested);
  const modelName = `${entry.id}@${entry.version}`;

  return {
    name: 'clip',
    model: resultModelOf(entry),
    provider: session.provider,
    maxBatch,
    async run(images) {
      const decoded = await Promise.allSettled(
        images.map((bytes) => decodeClipPixels(bytes, spec)),
      );
      // An undecodable image is an expected outcome; anything else is a bug and must surface.
      const bug = decoded.find(
        (item) => item.status === 'rejected' && !(item.reason instanceof ImageDecodeError),
      );
      if (bug?.status === 'rejected') throw bug.reason;
      const crops: Uint8Array[] = [];
      for (const item of decoded) if (item.status === 'fulfilled') crops.push(item.value);

      const vectors: Array<number[] | null> = [];
      let at = 0;
      for (const n of batches(crops.length, maxBatch)) {
        const feed = toFeed(crops.slice(at, at + n), input, spec);
        const outputs = await session.run({ [input.name]: feed });
        for (const row of embeddingRows(outputs[outputName], n, modelName)) {
          vectors.push(l2Normalize(row));
        }
        at += n;
      }
      let next = 0;
      return decoded.map((item): TaskOutcome<number[]> => {
        if (item.status === 'rejected') return { ok: false, error: item.reason.message };
        const vector = vectors[next++];
        return vector
          ? { ok: true, result: vector }
          : { ok: false, error: `${modelName} returned an embedding that cannot be normalised` };
      });
    },
    close: () => session.close(),
  };
}

function toFeed(
  crops: readonly Uint8Array[],
  input: ImageInput,
  spec: NonNullable<ModelEntry['preprocess']>,
): TensorInput {
  const { width: w, height: h } = spec;
  if (input.layout === 'uint8-nhwc') {
    const data = new Uint8Array(crops.length * h * w * 3);
    for (const [i, crop] of crops.entries()) data.set(crop, i * crop.length);
    return { type: 'uint8', data, dims: [crops.length, h, w, 3] };
  }
  const size = 3 * h * w;
  const data = new Float32Array(crops.length * size);
  for (const [i, crop] of crops.entries()) data.set(toPlanarTensor(crop, spec), i * size);
  return { type: 'float32', data, dims: [crops.length, 3, h, w] };
}

/** The embedding space the entry's results belong to (shared by CLIP's two encoders). */
export function resultModelOf(entry: ModelEntry): ModelRef {
  return entry.resultModel ?? { id: entry.id, version: entry.version };
}
