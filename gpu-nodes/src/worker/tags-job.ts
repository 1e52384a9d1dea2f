import {
  deterministicId,
  type ImageIngested,
  type ImageTagsComputed,
  makeEvent,
  Subjects,
} from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { type JobOutcome, publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import type { Tagger } from '../tasks/tags/mod.ts';

export interface TagsJobDeps {
  bus: EventBus;
  blobs: BlobStore;
  tagger: Tagger;
  /** The consumer's durable name: part of each result's id. */
  durable: string;
}

/**
 * Tags one ingested image: reads its preview (the model input, DESIGN.md "Storage layout"),
 * runs the tagger, and publishes `aex.image.tags.computed`. The result's id is derived from
 * the job, so a redelivered job publishes a duplicate the bus drops.
 */
export async function tagIngestedImage(
  deps: TagsJobDeps,
  event: ImageIngested,
): Promise<JobOutcome> {
  const blob = await deps.blobs.get(event.previewKey);
  if (!blob) {
    // The image was deleted before its turn came: there is nothing left to tag.
    return { status: 'skipped', reason: `preview ${event.previewKey} is gone` };
  }
  const bytes = new Uint8Array(await new Response(blob.body).arrayBuffer());
  const [result] = await deps.tagger.tag([bytes]);
  if (!result?.ok) {
    return {
      status: 'failed',
      reason: `cannot tag image ${event.imageId}: ${result?.error ?? 'no result'}`,
    };
  }
  const model = deps.tagger.model;
  await publishEvent(
    deps.bus,
    makeEvent<ImageTagsComputed>({
      id: deterministicId(deps.durable, event.id, model.id, model.version),
      type: Subjects.imageTagsComputed,
      imageId: event.imageId,
      model,
      tags: result.tags,
    }),
  );
  return { status: 'success' };
}
