import type { ModelRef } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import {
  type ExecutionProvider,
  InferenceError,
  type OnnxSession,
  openOnnxSession,
} from '../../inference/onnx-session.ts';
import { fileWithRole, verifyModelFiles } from '../../models/model-files.ts';
import { getModelEntry } from '../../models/registry.ts';
import { ALIGNED_SIZE } from './align.ts';

/** The face embedders the registry names, the production one first. */
export const FACE_EMBEDDERS = ['face-embed-sface', 'face-embed-mobilefacenet'] as const;
export type FaceEmbedderId = (typeof FACE_EMBEDDERS)[number];

/** How an aligned 112×112 RGB crop becomes an embedder's input: `(pixel − mean) · scale`. */
export interface EmbedderInputSpec {
  channelOrder: 'rgb' | 'bgr';
  mean: number;
  scale: number;
}

/**
 * Each embedder's input convention. The registry's `preprocess` describes resize-and-crop
 * classifiers, not aligned crops, so these live beside the code that makes the crops.
 */
export const EMBEDDER_INPUT: Readonly<Record<FaceEmbedderId, EmbedderInputSpec>> = {
  // OpenCV's FaceRecognizerSF::feature: `blobFromImage(aligned, 1, 112×112, 0, swapRB=true)`
  // on a BGR crop, i.e. RGB 0–255 with no normalisation (face_recognize.cpp).
  'face-embed-sface': { channelOrder: 'rgb', mean: 0, scale: 1 },
  // ../shared/models/SOURCES.md: (x − 127.5)/128. RGB as in the repository it comes from
  // (diandianti/photo_analyze, nn/nn_run.py, converts OpenCV's BGR to RGB first). Measured on
  // the fixtures, RGB also keeps copies of one face closer (median cosine 0.92 against 0.89 for
  // face_2.jpg's faces in a 0.6× copy); different people came out alike either way.
  'face-embed-mobilefacenet': { channelOrder: 'rgb', mean: 127.5, scale: 1 / 128 },
};

/**
 * A planar `[1, 3, 112, 112]` tensor from an interleaved RGB crop of 112×112.
 * @throws RangeError if the crop is not 112×112×3.
 */
export function embedderInput(crop: Uint8Array, spec: EmbedderInputSpec): Float32Array {
  const plane = ALIGNED_SIZE * ALIGNED_SIZE;
  if (crop.length !== plane * 3) {
    throw new RangeError(`the crop has ${crop.length} values, expected ${plane * 3}`);
  }
  const order = spec.channelOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const source = order[c] as number;
    const base = c * plane;
    for (let i = 0; i < plane; i++) {
      out[base + i] = ((crop[i * 3 + source] as number) - spec.mean) * spec.scale;
    }
  }
  return out;
}

/**
 * `v / |v|` as plain numbers (what the event carries), computed in float64.
 * @throws RangeError for a zero or non-finite vector: it has no direction to compare by.
 */
export function l2Normalize(v: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += (v[i] as number) ** 2;
  const norm = Math.sqrt(sum);
  if (!(norm > 0 && Number.isFinite(norm))) {
    throw new RangeError(`cannot normalise an embedding of norm ${norm}`);
  }
  return Array.from(v, (x) => x / norm);
}

/** Cosine similarity of two L2-normalised vectors (their dot product). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] as number) * (b[i] as number);
  return dot;
}

/** A face embedder, loaded. */
export interface FaceEmbedder {
  readonly model: ModelRef;
  readonly session: OnnxSession;
  /**
   * The L2-normalised embedding of one aligned 112×112 RGB crop. One crop per run: the
   * registry's embedders have a batch dimension fixed at 1.
   * @throws InferenceError if the run fails or gives no usable vector.
   */
  embed(crop: Uint8Array): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * Loads the embedder `id` after checking its files against the registry.
 * @throws ModelUnavailableError if the files are missing or differ from the registry.
 * @throws InferenceError if no provider opens it or its input is not the registry's.
 */
export async function openFaceEmbedder(options: {
  id: FaceEmbedderId;
  modelDir: string;
  providers: readonly ExecutionProvider[];
  log: Logger;
  intraOpThreads?: number;
  /** Overrides {@link EMBEDDER_INPUT} (for measuring a different convention). */
  inputSpec?: EmbedderInputSpec;
}): Promise<FaceEmbedder> {
  const entry = getModelEntry(options.id);
  const spec = options.inputSpec ?? EMBEDDER_INPUT[options.id];
  const files = await verifyModelFiles(entry, options.modelDir);
  const session = await openOnnxSession({
    path: fileWithRole(files, 'model').path,
    providers: options.providers,
    log: options.log,
    model: `${entry.id}@${entry.version}`,
    intraOpThreads: options.intraOpThreads,
  });
  const input = session.inputs.find((i) => i.name === entry.input.name);
  const dims = [1, 3, ALIGNED_SIZE, ALIGNED_SIZE];
  const output = session.outputNames[0];
  if (input?.type !== 'float32' || !output || !dims.every((d, i) => input.shape[i] === d)) {
    await session.close();
    throw new InferenceError(
      `${entry.id}: the graph's inputs ${JSON.stringify(session.inputs)} do not include ` +
        `${entry.input.name} float32 [${dims}]`,
    );
  }
  return {
    model: { id: entry.id, version: entry.version },
    session,
    async embed(crop) {
      const data = embedderInput(crop, spec);
      const result = (await session.run({ [entry.input.name]: { type: 'float32', data, dims } }))[
        output
      ];
      if (result?.type !== 'float32') {
        throw new InferenceError(`${entry.id}: output ${output} is missing or not float32`);
      }
      try {
        return l2Normalize(result.data);
      } catch (err) {
        throw new InferenceError(`${entry.id}: ${(err as Error).message}`, { cause: err });
      }
    },
    close: () => session.close(),
  };
}
