import { type AexEvent, AexEvent as AexEventSchema, Subjects } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import type { BatchContext } from '@aex/shared/ports/event-bus/run-batch-consumer';
import {
  encodeEvent,
  type JobOutcome,
  thrownOutcome,
} from '@aex/shared/ports/event-bus/run-consumer';
import { type JobImage, resultEvent } from './result-events.ts';
import type { LoadedTask } from './task-loader.ts';

export interface InferBatchDeps {
  bus: EventBus;
  blobs: BlobStore;
  task: LoadedTask;
  /** The consumer's durable name: part of each result's id. */
  durable: string;
}

/** An image of the batch whose preview is in hand. */
interface Ready {
  index: number;
  image: JobImage;
  bytes: Uint8Array;
}

/**
 * Runs one task over a batch of jobs and publishes one result event per image. Outcomes are
 * index-aligned with `events`:
 * - not a job for this task (a reindex request for another task, or any other event on a
 *   wide filter): skipped;
 * - the preview is gone (the image was deleted meanwhile): skipped;
 * - the preview cannot be read, a result cannot be published, or the model itself fails:
 *   retry, since these are transient (storage, bus, GPU);
 * - the task cannot process this image (undecodable, corrupt): failed, with the reason, so it
 *   is dead-lettered at once while the rest of the batch succeeds.
 */
export async function inferBatch(
  deps: InferBatchDeps,
  events: readonly AexEvent[],
  ctx: Pick<BatchContext, 'log'>,
): Promise<JobOutcome[]> {
  const { task } = deps;
  const outcomes: Array<JobOutcome | undefined> = events.map((event) => {
    if (jobImage(event, task.name)) return undefined;
    const what = event.type === Subjects.imageReindexRequested ? ` for ${event.task}` : '';
    return { status: 'skipped', reason: `not a job for ${deps.durable}: ${event.type}${what}` };
  });

  const ready: Ready[] = [];
  await Promise.all(
    events.map(async (event, index) => {
      const image = jobImage(event, task.name);
      if (!image) return;
      try {
        const blob = await deps.blobs.get(image.previewKey);
        if (!blob) {
          outcomes[index] = { status: 'skipped', reason: `preview ${image.previewKey} is gone` };
          return;
        }
        const bytes = new Uint8Array(await new Response(blob.body).arrayBuffer());
        ready.push({ index, image, bytes });
      } catch (err) {
        outcomes[index] = thrownOutcome(err);
      }
    }),
  );
  ready.sort((a, b) => a.index - b.index);

  // One `run` takes at most `maxBatch` images; a bigger batch is run in slices.
  for (let start = 0; start < ready.length; start += task.maxBatch) {
    const slice = ready.slice(start, start + task.maxBatch);
    let results: Awaited<ReturnType<LoadedTask['run']>>;
    try {
      results = await task.run(slice.map((r) => r.bytes));
      if (results.length !== slice.length) {
        throw new Error(
          `${task.name} returned ${results.length} results for ${slice.length} images`,
        );
      }
    } catch (err) {
      // The model failed, not an image: every job of the slice is tried again later.
      for (const r of slice) outcomes[r.index] = thrownOutcome(err);
      ctx.log.warn({ task: task.name, size: slice.length, err }, 'inference failed; will retry');
      continue;
    }
    await Promise.all(
      slice.map(async (r, i) => {
        outcomes[r.index] = await publishResult(deps, r.image, results[i]);
      }),
    );
  }
  return outcomes.map((o) => o ?? { status: 'retry', reason: 'no outcome (a worker bug)' });
}

async function publishResult(
  deps: InferBatchDeps,
  image: JobImage,
  outcome: Awaited<ReturnType<LoadedTask['run']>>[number] | undefined,
): Promise<JobOutcome> {
  const { task } = deps;
  if (!outcome?.ok) {
    const why = outcome?.error ?? 'no result';
    return {
      status: 'failed',
      reason: `${task.name} cannot process image ${image.imageId}: ${why}`,
    };
  }
  const parsed = AexEventSchema.safeParse(resultEvent(task, deps.durable, image, outcome.result));
  if (!parsed.success) {
    // A result the contract refuses would be refused again on every retry.
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    return {
      status: 'failed',
      reason: `${task.name} result for image ${image.imageId} is invalid: ${issues.slice(0, 3).join('; ')}`,
    };
  }
  const event = parsed.data;
  try {
    await deps.bus.publish(event.type, encodeEvent(event), { msgId: event.id });
  } catch (err) {
    return thrownOutcome(err);
  }
  return { status: 'success' };
}

/** The image `event` asks `task` about, or undefined when it is not this task's job. */
export function jobImage(event: AexEvent, task: LoadedTask['name']): JobImage | undefined {
  if (event.type === Subjects.imageIngested) {
    return { sourceId: event.id, imageId: event.imageId, previewKey: event.previewKey };
  }
  if (event.type === Subjects.imageReindexRequested && event.task === task) {
    return { sourceId: event.id, imageId: event.imageId, previewKey: event.previewKey };
  }
  return undefined;
}
