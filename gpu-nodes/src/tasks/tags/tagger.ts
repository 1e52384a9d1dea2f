import { readFile } from 'node:fs/promises';
import type { ModelRef, TagScore } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import { z } from 'zod';
import {
  type ExecutionProvider,
  InferenceError,
  type OnnxSession,
  openOnnxSession,
} from '../../inference/onnx-session.ts';
import { fileWithRole, verifyModelFiles } from '../../models/model-files.ts';
import { getModelEntry, type InputSpec, type ModelEntry } from '../../models/registry.ts';
import { topLabelsPerRow } from './postprocess.ts';
import { assembleBatch, ImageDecodeError, preprocessImage } from './preprocess.ts';

/** The registry id of the tagging model. */
export const TAGGER_MODEL_ID = 'classify-mobilenetv2';

/** One image's outcome: its tags, or why it could not be tagged. */
export type TagResult = { ok: true; tags: TagScore[] } | { ok: false; error: string };

/** Tags images with ImageNet labels. */
export interface Tagger {
  readonly model: ModelRef;
  /** The execution provider the model runs on. */
  readonly provider: ExecutionProvider;
  /**
   * Tags `images` (encoded bytes) with one batched inference; results are index-aligned with
   * `images`. An image that cannot be decoded fails alone.
   * @throws InferenceError if the run itself fails (every image is then untagged).
   */
  tag(images: readonly Uint8Array[]): Promise<TagResult[]>;
  close(): Promise<void>;
}

export interface CreateTaggerOptions {
  /** The directory holding `<model id>/` folders (AEX_MODEL_DIR). */
  modelDir: string;
  providers: readonly ExecutionProvider[];
  log: Logger;
  /** At most this many tags per image; default 5. */
  topK?: number;
  /** Tags with a lower probability are dropped; default 0.05. */
  minScore?: number;
  intraOpThreads?: number;
}

const Labels = z.array(z.string().min(1)).min(1);

/**
 * Loads the tagging model: checks its files against the registry's sha256, reads the labels
 * and opens an inference session on the first provider that works.
 * @throws ModelUnavailableError if the files are missing or differ from the registry.
 * @throws InferenceError if no provider can open the model or it is not the promised graph.
 */
export async function createTagger(options: CreateTaggerOptions): Promise<Tagger> {
  const topK = options.topK ?? 5;
  const minScore = options.minScore ?? 0.05;
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`topK must be ≥ 1, got ${topK}`);
  if (!(minScore >= 0 && minScore <= 1)) {
    throw new RangeError(`minScore must be in [0, 1], got ${minScore}`);
  }

  const entry = getModelEntry(TAGGER_MODEL_ID);
  const spec = entry.preprocess;
  if (!spec) throw new Error(`${entry.id} has no image preprocessing in the registry`);
  const files = await verifyModelFiles(entry, options.modelDir);
  const labelsFile = fileWithRole(files, 'labels');
  const labels = Labels.parse(JSON.parse(await readFile(labelsFile.path, 'utf8')));

  const session = await openOnnxSession({
    path: fileWithRole(files, 'model').path,
    providers: options.providers,
    log: options.log,
    model: `${entry.id}@${entry.version}`,
    intraOpThreads: options.intraOpThreads,
  });
  try {
    assertGraph(session, entry, labels.length);
  } catch (err) {
    await session.close();
    throw err;
  }

  const { input } = entry;
  const outputName = session.outputNames[0] as string;
  const model: ModelRef = { id: entry.id, version: entry.version };

  return {
    model,
    provider: session.provider,
    async tag(images) {
      const decoded = await Promise.allSettled(images.map((bytes) => preprocessImage(bytes, spec)));
      // An undecodable image is an expected outcome; anything else is a bug and must surface.
      const bug = decoded.find(
        (item) => item.status === 'rejected' && !(item.reason instanceof ImageDecodeError),
      );
      if (bug?.status === 'rejected') throw bug.reason;
      const tensors: Float32Array[] = [];
      for (const item of decoded) if (item.status === 'fulfilled') tensors.push(item.value);
      let tagged: TagScore[][] = [];
      if (tensors.length > 0) {
        const dims = [tensors.length, ...input.shape.slice(1)];
        const outputs = await session.run({
          [input.name]: { type: 'float32', data: assembleBatch(tensors), dims },
        });
        const logits = outputs[outputName];
        if (logits?.type !== 'float32') {
          throw new InferenceError(`${entry.id}: output ${outputName} is not float32`);
        }
        tagged = topLabelsPerRow(logits.data, tensors.length, labels, { topK, minScore });
      }
      let next = 0;
      return decoded.map((item): TagResult => {
        if (item.status === 'rejected') return { ok: false, error: item.reason.message };
        return { ok: true, tags: tagged[next++] ?? [] };
      });
    },
    close: () => session.close(),
  };
}

// A file that hashes right can still be paired with the wrong registry entry after an edit;
// checking the graph's declared input and output once beats garbage tags on every image.
function assertGraph(session: OnnxSession, entry: ModelEntry, classes: number): void {
  const actual = session.inputs.find((i) => i.name === entry.input.name);
  if (!actual || !shapeMatches(actual.shape, entry.input) || actual.type !== entry.input.type) {
    throw new InferenceError(
      `${entry.id}: the graph's inputs (${JSON.stringify(session.inputs)}) do not include ` +
        `${JSON.stringify(entry.input)} from the registry`,
    );
  }
  const output = session.outputs[0];
  const width = output?.shape.at(-1);
  if (output?.type !== 'float32' || width !== classes) {
    throw new InferenceError(
      `${entry.id}: the graph's output ${JSON.stringify(output)} is not float32 with ${classes} classes`,
    );
  }
}

function shapeMatches(shape: ReadonlyArray<number | string>, spec: InputSpec): boolean {
  return (
    shape.length === spec.shape.length &&
    spec.shape.every((d, axis) => d === -1 || shape[axis] === d)
  );
}
