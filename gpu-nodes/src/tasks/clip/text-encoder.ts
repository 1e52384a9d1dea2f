import type { ModelRef } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import {
  type ExecutionProvider,
  InferenceError,
  openOnnxSession,
  type TensorInput,
} from '../../inference/onnx-session.ts';
import { fileWithRole, verifyModelFiles } from '../../models/model-files.ts';
import { getModelEntry } from '../../models/registry.ts';
import { batches, embeddingOutputOf, textInputOf } from './clip-graph.ts';
import { embeddingRows, l2Normalize } from './embedding.ts';
import { resultModelOf } from './image-task.ts';
import { CLIP_CONTEXT_LENGTH, loadClipTokenizer } from './tokenizer.ts';

/** The registry id of the CLIP text encoder. */
export const CLIP_TEXTUAL_MODEL_ID = 'clip-vit-b32-openai-textual';

/** Embeds search queries into the CLIP space the image task's vectors live in. */
export interface ClipTextEncoder {
  /** The shared embedding space (the same as the image task's `model`). */
  readonly model: ModelRef;
  readonly provider: ExecutionProvider;
  /**
   * One L2-normalised embedding per text, index-aligned; texts longer than 77 tokens are
   * truncated as CLIP truncates them.
   * @throws InferenceError if the run fails or yields a vector that cannot be normalised.
   */
  embed(texts: readonly string[]): Promise<number[][]>;
  close(): Promise<void>;
}

export interface CreateClipTextEncoderOptions {
  /** The directory holding `<model id>/` folders (AEX_MODEL_DIR). */
  modelDir: string;
  providers: readonly ExecutionProvider[];
  log: Logger;
  /** Texts per session run; default 32, and never more than a graph with a fixed batch takes. */
  maxBatch?: number;
  intraOpThreads?: number;
}

/**
 * Loads the CLIP text encoder and its tokenizer: checks the files (registry or pinned sha256),
 * opens a session on the first provider that works and checks the graph takes `[N, 77]` tokens.
 * @throws ModelUnavailableError if the files are missing or differ from their sums.
 * @throws ClipTokenizerError if tokenizer.json is not CLIP's vocabulary.
 * @throws InferenceError if no provider can open the model or it is not a CLIP text encoder.
 */
export async function createClipTextEncoder(
  options: CreateClipTextEncoderOptions,
): Promise<ClipTextEncoder> {
  const requested = options.maxBatch ?? 32;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new RangeError(`maxBatch must be a whole number ≥ 1, got ${requested}`);
  }
  const entry = getModelEntry(CLIP_TEXTUAL_MODEL_ID);
  const files = await verifyModelFiles(entry, options.modelDir);
  const tokenizer = await loadClipTokenizer(fileWithRole(files, 'tokenizer').path);
  const modelName = `${entry.id}@${entry.version}`;
  const session = await openOnnxSession({
    path: fileWithRole(files, 'model').path,
    providers: options.providers,
    log: options.log,
    model: modelName,
    intraOpThreads: options.intraOpThreads,
  });
  let input: ReturnType<typeof textInputOf>;
  let outputName: string;
  try {
    input = textInputOf(session, entry);
    outputName = embeddingOutputOf(session, entry);
  } catch (err) {
    await session.close();
    throw err;
  }
  const maxBatch = Math.min(requested, input.fixedBatch ?? requested);

  return {
    model: resultModelOf(entry),
    provider: session.provider,
    async embed(texts) {
      const vectors: number[][] = [];
      let at = 0;
      for (const n of batches(texts.length, maxBatch)) {
        const ids = tokenizer.encodeBatch(texts.slice(at, at + n));
        const dims = [n, CLIP_CONTEXT_LENGTH];
        const feed: TensorInput =
          input.type === 'int32'
            ? { type: 'int32', data: ids, dims }
            : { type: 'int64', data: BigInt64Array.from(ids, (id) => BigInt(id)), dims };
        const outputs = await session.run({ [input.name]: feed });
        for (const row of embeddingRows(outputs[outputName], n, modelName)) {
          const vector = l2Normalize(row);
          if (!vector) {
            throw new InferenceError(
              `${modelName} returned an embedding that cannot be normalised`,
            );
          }
          vectors.push(vector);
        }
        at += n;
      }
      return vectors;
    },
    close: () => session.close(),
  };
}
