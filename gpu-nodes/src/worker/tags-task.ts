import type { TagScore } from '@aex/shared';
import { type CreateTaggerOptions, createTagger, type Tagger } from '../tasks/tags/mod.ts';
import type { InferenceTask, TaskOutcome } from '../tasks/task.ts';

/** Most images one tagging run takes: one session run over a [n, 3, 224, 224] tensor. */
const TAGS_MAX_BATCH = 32;

/** The tagger as an `InferenceTask`, so the worker batches it like every other task. */
export function tagsTask(tagger: Tagger, maxBatch = TAGS_MAX_BATCH): InferenceTask<TagScore[]> {
  return {
    name: 'tags',
    model: tagger.model,
    provider: tagger.provider,
    maxBatch,
    async run(images) {
      const results = await tagger.tag(images);
      return results.map(
        (r): TaskOutcome<TagScore[]> =>
          r.ok ? { ok: true, result: r.tags } : { ok: false, error: r.error },
      );
    },
    close: () => tagger.close(),
  };
}

/** Loads the tagging model as an `InferenceTask` (the worker's factory for `tags`). */
export async function createTagsTask(
  options: CreateTaggerOptions & { maxBatch?: number },
): Promise<InferenceTask<TagScore[]>> {
  return tagsTask(await createTagger(options), options.maxBatch);
}
