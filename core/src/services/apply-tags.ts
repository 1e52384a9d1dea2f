import type { ImageTagsComputed } from '@aex/shared';
import type { JobOutcome } from '@aex/shared/ports/event-bus/run-consumer';
import type { ResultsRepository } from '../db/results-repository.ts';
import { outcomeOf } from './results/apply-results.ts';

/**
 * Records a tagger's result. Idempotent: the model version's previous tags for the image are
 * replaced, so a redelivered or duplicated result leaves the same rows; the version is
 * recorded in `image_results` (what reindex reads) in the same transaction, and serves the
 * tags when it is the first version to produce any.
 */
export async function applyTagsComputed(
  results: Pick<ResultsRepository, 'replaceTags'>,
  event: ImageTagsComputed,
): Promise<JobOutcome> {
  const status = await results.replaceTags(
    event.imageId,
    event.model,
    event.tags,
    new Date(event.occurredAt),
  );
  return outcomeOf(status, event.imageId, event.model);
}
