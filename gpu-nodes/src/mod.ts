import { join } from 'node:path';
import type { InferenceTaskName } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import type { RunningConsumer } from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';
import type { Rpc, RpcResponder } from '@aex/shared/ports/rpc/rpc';
import type { WorkerConfig } from './config.ts';
import { startTaskConsumer, taskDurable } from './worker/task-consumer.ts';
import {
  importFactory,
  loadTasks,
  skipLine,
  type TaskFactory,
  type TaskFactoryOptions,
  TEXT_ENCODER_FACTORY,
} from './worker/task-loader.ts';
import { answerTextEmbed, type TextEmbedder } from './worker/text-embed-responder.ts';

export { parseWorkerConfig, type WorkerConfig, WorkerEnv } from './config.ts';
// The model registry and puller, for `aex models` (core/bin/models-command.ts).
export { MODEL_LOCK_FILE } from './models/model-files.ts';
export { inspectModel, type PullProgress, pullModel } from './models/pull.ts';
export { getModelEntry, MODEL_REGISTRY, type ModelEntry } from './models/registry.ts';
export type { LoadedTask, TaskFactory, TaskFactoryOptions } from './worker/task-loader.ts';
export type { TextEmbedder } from './worker/text-embed-responder.ts';

export interface WorkerDeps {
  log: Logger;
  bus: EventBus;
  blobs: BlobStore;
  /** Request/reply: with it, a worker with the CLIP text model answers `aex.infer.text-embed`. */
  rpc?: Rpc;
  /** Factories used instead of the built-in ones (tests; a build with other models). */
  factories?: Partial<Record<InferenceTaskName, TaskFactory>>;
  /** The text encoder's factory, instead of the CLIP one. */
  textEncoderFactory?: (options: TaskFactoryOptions) => Promise<TextEmbedder>;
}

export interface RunningWorker {
  /** Tasks running, with the model each uses and the provider its session got. */
  readonly tasks: Array<{ task: string; model: string; provider: string }>;
  /** Stops fetching, finishes and acks the batches in flight, then unloads the models. */
  stop(): Promise<void>;
}

/** Durable consumer names of the worker's tasks: all workers of a task share one. */
export const WORKER_CONSUMERS = {
  tags: taskDurable('tags'),
  clip: taskDurable('clip'),
  faces: taskDurable('faces'),
  ocr: taskDurable('ocr'),
} as const satisfies Record<InferenceTaskName, string>;

/**
 * Starts a worker: each configured task whose model files are present gets its model loaded
 * (and kept loaded: no cold first query) and a batch consumer `worker-<task>` on
 * `aex.image.ingested` and `aex.image.reindex.requested`. A task whose code or model is
 * missing is skipped with one clear log line; the rest run. With `deps.rpc` and the CLIP text
 * model, the worker also answers text-embedding requests (queue group `clip-text`).
 */
export async function startWorker(config: WorkerConfig, deps: WorkerDeps): Promise<RunningWorker> {
  const { log } = deps;
  // Every task decodes through sharp; its cache only slows a worker down (see there). This is
  // process-wide: in the embedded mode, core's sharp calls run without it too. Imported here,
  // like the tasks, so that importing the worker does not load libvips.
  (await import('./tasks/image-decode.ts')).disableOperationCache();
  const modelDir = config.AEX_MODEL_DIR ?? join(config.AEX_DATA_DIR, 'models');
  const factoryOptions = { modelDir, providers: config.AEX_EXECUTION_PROVIDERS, log };
  const loaded = await loadTasks(config.AEX_WORKER_TASKS, {
    ...factoryOptions,
    factories: deps.factories,
  });
  const consumers: RunningConsumer[] = [];
  let responder: RpcResponder | undefined;
  let embedder: TextEmbedder | undefined;
  const tasks: RunningWorker['tasks'] = loaded.map((t) => ({
    task: t.name,
    model: `${t.model.id}@${t.model.version}`,
    provider: t.provider,
  }));

  const unload = async (): Promise<void> => {
    const closing: Array<Promise<void> | undefined> = [
      ...loaded.map((t) => t.close()),
      embedder?.close(),
    ];
    await Promise.allSettled(closing);
  };

  try {
    for (const task of loaded) {
      consumers.push(
        await startTaskConsumer({ ...deps, log: log.child({ task: task.name }) }, task, {
          maxBatch: config.AEX_WORKER_BATCH,
          maxWaitMs: config.AEX_WORKER_BATCH_WAIT,
          concurrency: config.AEX_WORKER_CONCURRENCY,
          ackWaitMs: config.AEX_WORKER_ACK_WAIT,
        }),
      );
    }
    if (deps.rpc && config.AEX_WORKER_TASKS.includes('clip')) {
      embedder = await loadTextEmbedder(deps, factoryOptions);
      if (embedder) {
        responder = await answerTextEmbed(deps.rpc, embedder, log.child({ task: 'clip-text' }));
        const { model, provider } = embedder;
        tasks.push({ task: 'clip-text', model: `${model.id}@${model.version}`, provider });
      }
    }
  } catch (err) {
    await Promise.allSettled(consumers.map((c) => c.stop()));
    await unload();
    throw err;
  }
  log.info({ tasks }, tasks.length > 0 ? 'worker running' : 'worker has no task to run');
  return {
    tasks,
    async stop() {
      // Sessions close only after every batch in flight has run and been acked (drain).
      await Promise.all([...consumers.map((c) => c.stop()), responder?.stop()]);
      await unload();
    },
  };
}

async function loadTextEmbedder(
  deps: WorkerDeps,
  options: TaskFactoryOptions,
): Promise<TextEmbedder | undefined> {
  const log = options.log.child({ task: 'clip-text' });
  try {
    const factory =
      deps.textEncoderFactory ??
      (await importFactory<(o: TaskFactoryOptions) => Promise<TextEmbedder>>(TEXT_ENCODER_FACTORY));
    const embedder = await factory({ ...options, log });
    if (typeof embedder?.embed !== 'function' || typeof embedder.model?.id !== 'string') {
      await embedder?.close?.().catch(() => undefined);
      throw new Error('the CLIP text encoder factory did not return an encoder with embed()');
    }
    return embedder;
  } catch (err) {
    options.log.warn(
      { task: 'clip-text', modelDir: options.modelDir, err: (err as Error).message },
      skipLine('clip text search', err),
    );
    return undefined;
  }
}
