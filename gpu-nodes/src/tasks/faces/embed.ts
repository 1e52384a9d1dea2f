import { readFile } from 'node:fs/promises';
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
import { type BatchCapableGraph, batchCapableGraph } from './batch-graph.ts';
import { probeBatching } from './batch-probe.ts';

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

/**
 * Faces per run when the embedder's graph batches. Measured with MobileFaceNet on the CPU
 * provider (2 cores), 344 faces over 48 previews, CPU time per face: 9.3 ms one face a run,
 * 7.8 ms up to 4 a run, 7.5 up to 8, 7.8 up to 16, 8.7 up to 32; the batch's embeddings equal
 * the single runs' to the bit. Not measured on a GPU, where larger runs may pay.
 */
export const MAX_FACES_PER_RUN = 8;

/** A face embedder, loaded. */
export interface FaceEmbedder {
  readonly model: ModelRef;
  readonly session: OnnxSession;
  /**
   * Faces per run: `maxFacesPerRun` when the graph was shown at load to give a batch the
   * embeddings its faces get alone, else 1.
   */
  readonly facesPerRun: number;
  /**
   * The L2-normalised embedding of one aligned 112×112 RGB crop.
   * @throws InferenceError if the run fails or gives no usable vector.
   */
  embed(crop: Uint8Array): Promise<number[]>;
  /**
   * The embeddings of `crops`, in their order, computed `facesPerRun` at a time.
   * @throws InferenceError if a run fails or gives no usable vector.
   */
  embedMany(crops: readonly Uint8Array[]): Promise<number[][]>;
  close(): Promise<void>;
}

/**
 * Loads the embedder `id` after checking its files against the registry. The registry's
 * embedders fix their batch at 1; a copy with it freed (batch-graph.ts) is used instead when a
 * probe at load shows that a batch gives each face what a run of its own gives it
 * (batch-probe.ts). Otherwise faces run one at a time, with one warning.
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
  /** At most this many faces per run; default {@link MAX_FACES_PER_RUN}; 1 never batches. */
  maxFacesPerRun?: number;
}): Promise<FaceEmbedder> {
  const maxFacesPerRun = options.maxFacesPerRun ?? MAX_FACES_PER_RUN;
  if (!(Number.isInteger(maxFacesPerRun) && maxFacesPerRun >= 1)) {
    throw new RangeError(`maxFacesPerRun must be an integer ≥ 1, got ${maxFacesPerRun}`);
  }
  const entry = getModelEntry(options.id);
  const files = await verifyModelFiles(entry, options.modelDir);
  const path = fileWithRole(files, 'model').path;
  const model = `${entry.id}@${entry.version}`;
  const log = options.log;
  const open = async (bytes?: Uint8Array) => {
    const { providers, intraOpThreads } = options;
    const session = await openOnnxSession({ path, bytes, providers, log, model, intraOpThreads });
    return embedderRuns(session, {
      model,
      input: entry.input.name,
      spec: options.inputSpec ?? EMBEDDER_INPUT[options.id],
    });
  };

  let runs: EmbedderRuns | undefined;
  let derived: BatchCapableGraph | null = null;
  let unbatched: string | null = null;
  if (maxFacesPerRun > 1) {
    try {
      derived = batchCapableGraph(new Uint8Array(await readFile(path)), entry.input.name);
      if (derived) runs = await open(derived.bytes);
    } catch (err) {
      // Whatever went wrong with the copy, the graph as shipped still embeds one face a run;
      // if it does not, opening it says why.
      unbatched = `its graph with the batch freed does not load: ${(err as Error).message}`;
    }
  }
  runs ??= await open();
  if (maxFacesPerRun > 1 && unbatched === null) {
    try {
      unbatched = runs.batchFree ? await probeBatching(runs.run) : 'its batch is fixed';
    } catch (err) {
      await runs.session.close();
      throw err;
    }
    if (unbatched !== null && derived) {
      await runs.session.close();
      runs = await open();
    }
  }
  const facesPerRun = unbatched === null ? maxFacesPerRun : 1;
  if (unbatched !== null) {
    log.warn({ model, reason: unbatched }, 'face embedder runs one face at a time');
  } else if (facesPerRun > 1) {
    log.info({ model, facesPerRun, reshapes: derived?.reshapes ?? [] }, 'face embedder batches');
  }
  const { session, run } = runs;
  return {
    model: { id: entry.id, version: entry.version },
    session,
    facesPerRun,
    async embed(crop) {
      return (await run([crop]))[0] as number[];
    },
    async embedMany(crops) {
      const out: number[][] = [];
      for (let i = 0; i < crops.length; i += facesPerRun) {
        out.push(...(await run(crops.slice(i, i + facesPerRun))));
      }
      return out;
    },
    close: () => session.close(),
  };
}

/** A session checked to take the embedder input, and one run over a list of crops. */
interface EmbedderRuns {
  session: OnnxSession;
  /** Whether the graph's batch dimension is free, rather than fixed at 1. */
  batchFree: boolean;
  /** L2-normalised embeddings of `crops`, in order, from one run. */
  run(crops: readonly Uint8Array[]): Promise<number[][]>;
}

// Closes `session` before throwing when its graph is not an embedder of aligned crops.
async function embedderRuns(
  session: OnnxSession,
  graph: { model: string; input: string; spec: EmbedderInputSpec },
): Promise<EmbedderRuns> {
  const input = session.inputs.find((i) => i.name === graph.input);
  const output = session.outputNames[0];
  const [batch, ...dims] = input?.shape ?? [];
  const fixed = [3, ALIGNED_SIZE, ALIGNED_SIZE];
  if (
    input?.type !== 'float32' ||
    !output ||
    !(batch === 1 || typeof batch === 'string') ||
    dims.length !== 3 ||
    !fixed.every((d, i) => dims[i] === d)
  ) {
    await session.close();
    throw new InferenceError(
      `${graph.model}: the graph's inputs ${JSON.stringify(session.inputs)} do not include ` +
        `${graph.input} float32 [1,${fixed}]`,
    );
  }
  const size = 3 * ALIGNED_SIZE * ALIGNED_SIZE;
  return {
    session,
    batchFree: typeof batch === 'string',
    async run(crops) {
      const n = crops.length;
      if (n === 0) return [];
      const data = new Float32Array(n * size);
      for (const [i, crop] of crops.entries()) data.set(embedderInput(crop, graph.spec), i * size);
      const feed = { type: 'float32' as const, data, dims: [n, 3, ALIGNED_SIZE, ALIGNED_SIZE] };
      const result = (await session.run({ [graph.input]: feed }))[output];
      if (result?.type !== 'float32') {
        throw new InferenceError(`${graph.model}: output ${output} is missing or not float32`);
      }
      const width = result.data.length / n;
      if (result.dims[0] !== n || !Number.isInteger(width) || width === 0) {
        throw new InferenceError(
          `${graph.model}: ${n} faces gave output ${output} of dims [${result.dims}]`,
        );
      }
      try {
        return Array.from({ length: n }, (_, i) =>
          l2Normalize(result.data.subarray(i * width, (i + 1) * width)),
        );
      } catch (err) {
        throw new InferenceError(`${graph.model}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
