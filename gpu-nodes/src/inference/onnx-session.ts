import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from '@aex/shared/ports/log';
import * as ort from 'onnxruntime-node';

// The inference adapter: the only module that imports onnxruntime-node (CONVENTIONS.md §2).
// Callers hand in typed arrays and dims and get typed arrays back, so the ORT tensor type
// never leaks out of this file.

/** Execution providers AEX knows how to ask ONNX Runtime for, fastest first. */
export const EXECUTION_PROVIDERS = ['tensorrt', 'cuda', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** The inference port's error: a model that cannot be loaded, no usable provider, a bad feed. */
export class InferenceError extends Error {
  override name = 'InferenceError';
  /** Each provider that was tried and why it failed, in the order tried. */
  readonly attempts: ReadonlyArray<{ provider: ExecutionProvider; error: string }>;

  constructor(
    message: string,
    options: {
      cause?: unknown;
      attempts?: ReadonlyArray<{ provider: ExecutionProvider; error: string }>;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.attempts = options.attempts ?? [];
  }
}

/**
 * Parses an ordered, comma-separated provider list such as `"tensorrt,cuda,cpu"`.
 * Names are trimmed and case-insensitive; duplicates are dropped, keeping the first.
 * @throws InferenceError naming the unknown entries and the valid names.
 */
export function parseExecutionProviders(list: string): ExecutionProvider[] {
  const names = list
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const valid = EXECUTION_PROVIDERS.join(', ');
  if (names.length === 0) {
    throw new InferenceError(`no execution provider given; valid names: ${valid}`);
  }
  const unknown = names.filter((name) => !isExecutionProvider(name));
  if (unknown.length > 0) {
    throw new InferenceError(
      `unknown execution provider ${unknown.map((n) => `"${n}"`).join(', ')}; valid names: ${valid}`,
    );
  }
  return [...new Set(names as ExecutionProvider[])];
}

function isExecutionProvider(name: string): name is ExecutionProvider {
  return (EXECUTION_PROVIDERS as readonly string[]).includes(name);
}

/** The tensor element types a caller may feed or read back. */
export type TensorType = 'float32' | 'int32' | 'int64' | 'uint8';

/** A tensor as callers see it: a typed array matching `type`, and its dims (first = batch). */
export type TensorInput =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int32'; data: Int32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'uint8'; data: Uint8Array; dims: readonly number[] };

/** A run's output tensor. */
export type TensorOutput = TensorInput;

/** One model input or output as declared by the graph; symbolic dims (e.g. `batch_size`) stay strings. */
export interface ValueInfo {
  name: string;
  /** The element type, e.g. `float32`; `non-tensor` for sequences and maps. */
  type: string;
  shape: ReadonlyArray<number | string>;
}

/** A loaded model on one execution provider. */
export interface OnnxSession {
  /** The provider the session was created on (the first of the requested ones that worked). */
  readonly provider: ExecutionProvider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** One batched run: every feed's first dim is the batch. */
  run(feeds: Record<string, TensorInput>): Promise<Record<string, TensorOutput>>;
  /** Frees the native session; the session must not be used afterwards. */
  close(): Promise<void>;
}

export interface OpenOnnxSessionOptions {
  /** Absolute path of the `.onnx` file. */
  path: string;
  /**
   * The model itself, when a caller derived it in memory from the file at `path` (e.g. with
   * its batch dimension freed); `path` then only names it in errors.
   */
  bytes?: Uint8Array;
  /** Providers in order of preference, e.g. `['tensorrt', 'cuda', 'cpu']`. */
  providers: readonly ExecutionProvider[];
  log: Logger;
  /** Name to log the model under; defaults to the file name. */
  model?: string;
  /** Threads per operator on CPU; defaults to ONNX Runtime's choice (one per core). */
  intraOpThreads?: number;
}

// ORT's native logger writes coloured lines to stderr, outside our JSON logs, for every
// provider it fails to load. Each failure reaches us as an exception that we log ourselves,
// so the native logger only keeps fatal messages. It is process-wide and read once, when the
// first session is created.
ort.env.logLevel = 'fatal';

// Messages of ORT errors that mean the file is not a loadable model, whatever the provider:
// trying the next provider would only repeat them.
const MODEL_FILE_ERROR =
  /protobuf parsing failed|INVALID_PROTOBUF|INVALID_GRAPH|No graph was found/i;

// ORT's intra-op threads spin after each run, waiting for the next one, instead of sleeping. A
// worker runs more than ORT: decoding, pre- and post-processing on the same cores, and a run of
// another task's session. Measured on 2 cores: after a MobileFaceNet run, one thread spun
// through every idle gap (412 ms of CPU over 406 ms idle; 6 without), the faces task's decoding
// cost 71 ms of CPU per preview instead of 50, and the inference benchmark's worker did 5.5
// images/s spinning against 7.6 not. The CPU provider reads this key; GPU providers ignore it.
const NO_SPINNING = { session: { intra_op: { allow_spinning: '0' } } };

/**
 * Opens an ONNX model on the first provider of `providers` that works on this machine. A
 * provider that is unavailable (the CPU build of onnxruntime-node has no CUDA or TensorRT) is
 * logged as a warning and the next one is tried; providers after `cpu` are never reached. Logs
 * one `info` line with `{model, provider}`.
 * @throws InferenceError if the file (or `bytes`) is missing or not a model, or no provider works.
 */
export async function openOnnxSession(options: OpenOnnxSessionOptions): Promise<OnnxSession> {
  const { path, providers, log } = options;
  const model = options.model ?? basename(path);
  if (providers.length === 0) throw new InferenceError('no execution provider given');
  if (options.bytes) {
    if (options.bytes.length === 0) throw new InferenceError(`${model}: the model bytes are empty`);
  } else {
    await assertModelFile(path);
  }

  // The CPU provider runs every operator, so nothing listed after it is ever reached.
  const cpuAt = providers.indexOf('cpu');
  const usable = cpuAt === -1 ? providers : providers.slice(0, cpuAt + 1);
  const attempts: Array<{ provider: ExecutionProvider; error: string }> = [];
  for (const [i, provider] of usable.entries()) {
    // Hand ORT the rest of the list, not the provider alone: with ['tensorrt', 'cuda'], nodes
    // that TensorRT cannot run go to CUDA rather than straight to the CPU.
    const executionProviders = usable.slice(i);
    try {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [...executionProviders],
        ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
        extra: NO_SPINNING,
      };
      const session = options.bytes
        ? await ort.InferenceSession.create(options.bytes, sessionOptions)
        : await ort.InferenceSession.create(path, sessionOptions);
      log.info({ model, provider }, 'inference session ready');
      return wrapSession(session, provider, model);
    } catch (err) {
      const message = errorMessage(err);
      if (MODEL_FILE_ERROR.test(message)) {
        throw new InferenceError(`${path} is not a valid ONNX model (${message}); ${HOW_TO_GET}`, {
          cause: err,
        });
      }
      attempts.push({ provider, error: message });
      const next = usable[i + 1];
      log.warn({ model, provider, err: message, next }, 'execution provider unavailable');
    }
  }
  const tried = attempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
  throw new InferenceError(`no execution provider could open ${model} (${tried})`, { attempts });
}

const HOW_TO_GET = 'run `aex models pull <id>` or set AEX_MODEL_DIR to a directory that holds it';

async function assertModelFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) {
    throw new InferenceError(`model file ${path} does not exist; ${HOW_TO_GET}`);
  }
  if (info.size === 0) {
    throw new InferenceError(`model file ${path} is empty; ${HOW_TO_GET}`);
  }
}

function wrapSession(
  session: ort.InferenceSession,
  provider: ExecutionProvider,
  model: string,
): OnnxSession {
  const inputs = session.inputMetadata.map(toValueInfo);
  const outputs = session.outputMetadata.map(toValueInfo);
  return {
    provider,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    inputs,
    outputs,
    async run(feeds) {
      const ortFeeds = toOrtFeeds(feeds, inputs, model);
      let results: ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run(ortFeeds);
      } catch (err) {
        throw new InferenceError(`${model}: run failed: ${errorMessage(err)}`, { cause: err });
      }
      const out: Record<string, TensorOutput> = {};
      for (const [name, tensor] of Object.entries(results)) {
        out[name] = fromOrtTensor(tensor, name, model);
      }
      return out;
    },
    async close() {
      await session.release();
    },
  };
}

function toValueInfo(meta: ort.InferenceSession.ValueMetadata): ValueInfo {
  return meta.isTensor
    ? { name: meta.name, type: meta.type, shape: [...meta.shape] }
    : { name: meta.name, type: 'non-tensor', shape: [] };
}

// Checks feeds against the graph before ORT does: its errors name neither the input nor what
// was expected, ours do.
function toOrtFeeds(
  feeds: Record<string, TensorInput>,
  inputs: readonly ValueInfo[],
  model: string,
): Record<string, ort.Tensor> {
  const extra = Object.keys(feeds).filter((name) => !inputs.some((i) => i.name === name));
  if (extra.length > 0) {
    throw new InferenceError(
      `${model}: unknown input ${extra.join(', ')}; inputs: ${inputs.map((i) => i.name).join(', ')}`,
    );
  }
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const feed = feeds[input.name];
    if (!feed) throw new InferenceError(`${model}: input ${input.name} is missing`);
    if (feed.type !== input.type) {
      throw new InferenceError(`${model}: input ${input.name} is ${input.type}, got ${feed.type}`);
    }
    const size = feed.dims.reduce((a, b) => a * b, 1);
    if (feed.data.length !== size) {
      throw new InferenceError(
        `${model}: input ${input.name} has ${feed.data.length} values, dims [${feed.dims}] need ${size}`,
      );
    }
    const fixed = input.shape.findIndex(
      (d, axis) => typeof d === 'number' && d !== feed.dims[axis],
    );
    if (feed.dims.length !== input.shape.length || fixed !== -1) {
      throw new InferenceError(
        `${model}: input ${input.name} has dims [${feed.dims}], the model wants [${input.shape}]`,
      );
    }
    ortFeeds[input.name] = new ort.Tensor(feed.type, feed.data, [...feed.dims]);
  }
  return ortFeeds;
}

function fromOrtTensor(tensor: ort.Tensor, name: string, model: string): TensorOutput {
  const dims = [...tensor.dims];
  const { data } = tensor;
  if (tensor.type === 'float32' && data instanceof Float32Array)
    return { type: 'float32', data, dims };
  if (tensor.type === 'int32' && data instanceof Int32Array) return { type: 'int32', data, dims };
  if (tensor.type === 'int64' && data instanceof BigInt64Array)
    return { type: 'int64', data, dims };
  if (tensor.type === 'uint8' && data instanceof Uint8Array) return { type: 'uint8', data, dims };
  throw new InferenceError(`${model}: output ${name} has unsupported type ${tensor.type}`);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
