import { Subjects } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { type EventBus, EventBusError } from '@aex/shared/ports/event-bus/event-bus';
import { runBatchConsumer } from '@aex/shared/ports/event-bus/run-batch-consumer';
import type { RunningConsumer } from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';
import { inferBatch } from './batch-job.ts';
import type { LoadedTask } from './task-loader.ts';

/** How a task's consumer batches. */
export interface BatchSettings {
  /** Most images per batch (AEX_WORKER_BATCH). */
  maxBatch: number;
  /** Longest wait to fill a batch, ms (AEX_WORKER_BATCH_WAIT). */
  maxWaitMs: number;
  /** Batches in flight (AEX_WORKER_CONCURRENCY). */
  concurrency: number;
  /** Ack wait of the durable consumer, ms (AEX_WORKER_ACK_WAIT). */
  ackWaitMs: number;
}

/** The durable consumer of a task: every worker running the task shares it. */
export function taskDurable(task: string): string {
  return `worker-${task}`;
}

/** What a task consumer reads: new images, and reindex requests (its own are picked out). */
export const TASK_SUBJECTS = [Subjects.imageIngested, Subjects.imageReindexRequested];
/** One filter covering both, for servers that allow one filter per consumer. */
const WIDE_SUBJECT = 'aex.image.>';

/**
 * Starts the batch consumer of one task. JetStream before nats-server 2.10 allows a single
 * filter subject per consumer: there (and where the durable was created that way) the
 * consumer reads `aex.image.>` and acks the events that are no job as skipped.
 */
export async function startTaskConsumer(
  deps: { bus: EventBus; blobs: BlobStore; log: Logger },
  task: LoadedTask,
  settings: BatchSettings,
): Promise<RunningConsumer> {
  const durable = taskDurable(task.name);
  const start = (subjects: string[]) =>
    runBatchConsumer(deps.bus, { durable, subjects, log: deps.log, ...settings }, (events, ctx) =>
      inferBatch({ bus: deps.bus, blobs: deps.blobs, task, durable }, events, ctx),
    );
  try {
    return await start(TASK_SUBJECTS);
  } catch (err) {
    const single = err instanceof EventBusError && /2\.10|exists with subjects/.test(err.message);
    if (!single) throw err;
    const runner = await start([WIDE_SUBJECT]).catch(() => {
      throw err;
    });
    deps.log.warn(
      { consumer: durable, subjects: [WIDE_SUBJECT], reason: err.message },
      'task consumer filters aex.image.> (one filter subject): events that are no job are skipped',
    );
    return runner;
  }
}
