import type { ImageTagsComputed } from '@aex/shared';
import type { JobOutcome } from '@aex/shared/ports/event-bus/run-consumer';
import type { ImageRepository } from '../db/image-repository.ts';

/**
 * Records a tagger's result. Idempotent: the model's previous tags for the image are
 * replaced, so a redelivered or duplicated result leaves the same rows.
 */
export async function applyTagsComputed(
  images: ImageRepository,
  event: ImageTagsComputed,
): Promise<JobOutcome> {
  const result = await images.replaceTags(
    event.imageId,
    event.model,
    event.tags,
    new Date(event.occurredAt),
  );
  if (result === 'image_missing') {
    // Deleted before its tags arrived: nothing to record, and retrying will not change that.
    return { status: 'skipped', reason: `image ${event.imageId} no longer exists` };
  }
  return { status: 'success' };
}
