import { join } from 'node:path';
import { Subjects } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { type RunningConsumer, runConsumer } from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';
import type { WorkerConfig } from './config.ts';
import { createTagger, type Tagger } from './tasks/tags/mod.ts';
import { tagIngestedImage } from './worker/tags-job.ts';

export { parseWorkerConfig, type WorkerConfig, WorkerEnv } from './config.ts';

export interface WorkerDeps {
  log: Logger;
  bus: EventBus;
  blobs: BlobStore;
}

export interface RunningWorker {
  /** Tasks running, with the model each uses. */
  readonly tasks: Array<{ task: string; model: string; provider: string }>;
  /** Stops fetching, finishes and acks the jobs in flight, then unloads the models. */
  stop(): Promise<void>;
}

/** Durable consumer names of the worker's tasks: all workers of a task share one. */
export const WORKER_CONSUMERS = { tags: 'worker-tags' } as const;

/**
 * Starts a worker: each configured task whose model files are present gets its model
 * loaded (and kept loaded) and a durable consumer. A task whose model is missing is
 * skipped with one clear log line; the rest run.
 */
export async function startWorker(config: WorkerConfig, deps: WorkerDeps): Promise<RunningWorker> {
  const log = deps.log;
  const modelDir = config.AEX_MODEL_DIR ?? join(config.AEX_DATA_DIR, 'models');
  const providers = config.AEX_EXECUTION_PROVIDERS;
  const consumers: RunningConsumer[] = [];
  const closers: Array<() => Promise<void>> = [];
  const tasks: RunningWorker['tasks'] = [];

  if (config.AEX_WORKER_TASKS.includes('tags')) {
    let tagger: Tagger | undefined;
    try {
      tagger = await createTagger({ modelDir, providers, log: log.child({ task: 'tags' }) });
    } catch (err) {
      log.warn(
        { task: 'tags', modelDir, err: (err as Error).message },
        'tags task skipped: its model is not available (set AEX_MODEL_DIR or pull the model)',
      );
    }
    if (tagger) {
      const t = tagger;
      closers.push(() => t.close());
      const durable = WORKER_CONSUMERS.tags;
      consumers.push(
        await runConsumer(
          deps.bus,
          {
            durable,
            subjects: [Subjects.imageIngested],
            log: log.child({ consumer: durable }),
            concurrency: config.AEX_WORKER_CONCURRENCY,
            ackWaitMs: 60_000,
          },
          async (event) =>
            event.type === Subjects.imageIngested
              ? tagIngestedImage({ bus: deps.bus, blobs: deps.blobs, tagger: t, durable }, event)
              : { status: 'skipped', reason: `not a job for ${durable}: ${event.type}` },
        ),
      );
      tasks.push({ task: 'tags', model: `${t.model.id}@${t.model.version}`, provider: t.provider });
    }
  }
  log.info({ tasks }, tasks.length > 0 ? 'worker running' : 'worker has no task to run');
  return {
    tasks,
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(closers.map((close) => close()));
    },
  };
}
