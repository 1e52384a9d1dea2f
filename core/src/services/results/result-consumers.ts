import { type AexEvent, Subjects } from '@aex/shared';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import {
  type JobOutcome,
  type RunningConsumer,
  runConsumer,
} from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';
import {
  applyEmbeddingComputed,
  applyFacesDetected,
  applyTextRecognized,
  type ResultDeps,
} from './apply-results.ts';

/** Durable consumer names of core's result consumers (`core-tags` is started by mod.ts). */
export const RESULT_CONSUMERS = {
  embeddings: 'core-embeddings',
  faces: 'core-faces',
  text: 'core-text',
  imageVectors: 'core-image-vectors',
} as const;

type Handler = (event: AexEvent) => Promise<JobOutcome>;

/**
 * Starts one durable consumer per result type, and one that removes a deleted image's vectors.
 * Each applies idempotently, so redeliveries and duplicates are harmless. Returns them for
 * `stop()`; if one cannot start, those already started are stopped and the error thrown.
 */
export async function startResultConsumers(
  bus: EventBus,
  deps: ResultDeps,
  log: Logger,
): Promise<RunningConsumer[]> {
  const { vectors } = deps;
  const specs: Array<{ durable: string; subject: string; handle: Handler; maxDeliver?: number }> = [
    {
      durable: RESULT_CONSUMERS.embeddings,
      subject: Subjects.imageEmbeddingComputed,
      handle: (e) =>
        e.type === Subjects.imageEmbeddingComputed
          ? applyEmbeddingComputed(deps, e)
          : skip(RESULT_CONSUMERS.embeddings, e),
    },
    {
      durable: RESULT_CONSUMERS.faces,
      subject: Subjects.imageFacesDetected,
      handle: (e) =>
        e.type === Subjects.imageFacesDetected
          ? applyFacesDetected(deps, e)
          : skip(RESULT_CONSUMERS.faces, e),
    },
    {
      durable: RESULT_CONSUMERS.text,
      subject: Subjects.imageTextRecognized,
      handle: (e) =>
        e.type === Subjects.imageTextRecognized
          ? applyTextRecognized(deps, e)
          : skip(RESULT_CONSUMERS.text, e),
    },
  ];
  if (vectors) {
    specs.push({
      durable: RESULT_CONSUMERS.imageVectors,
      subject: Subjects.imageDeleted,
      // As the blob removal: ~15 minutes of backoff ride out a vector store outage.
      maxDeliver: 20,
      handle: async (e) => {
        if (e.type !== Subjects.imageDeleted) return skip(RESULT_CONSUMERS.imageVectors, e);
        await vectors.removeImage(e.imageId);
        return { status: 'success' };
      },
    });
  }
  const running: RunningConsumer[] = [];
  try {
    for (const spec of specs) {
      running.push(
        await runConsumer(
          bus,
          {
            durable: spec.durable,
            subjects: [spec.subject],
            log: log.child({ consumer: spec.durable }),
            concurrency: 4,
            maxDeliver: spec.maxDeliver,
          },
          spec.handle,
        ),
      );
    }
  } catch (err) {
    await Promise.all(running.map((c) => c.stop()));
    throw err;
  }
  return running;
}

async function skip(durable: string, event: AexEvent): Promise<JobOutcome> {
  return { status: 'skipped', reason: `not an event for ${durable}: ${event.type}` };
}
