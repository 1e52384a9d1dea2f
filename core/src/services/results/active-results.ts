import type { InferenceTaskName, ModelRef } from '@aex/shared';
import type { ResultsRepository } from '../../db/results-repository.ts';
import type { ImageFaceRow, ImageTagRow, ImageTextLineRow } from '../../db/schema.ts';
import type { TaskModelsRepository } from '../../db/task-models-repository.ts';

/** One image's results from the active model versions. */
export interface ImageResults {
  tags: ImageTagRow[];
  faces: ImageFaceRow[];
  text: ImageTextLineRow[];
}

export const NO_RESULTS: ImageResults = Object.freeze({ tags: [], faces: [], text: [] });

/**
 * Reads the results the API shows: those of each task's active model version only, so a new
 * version being filled in beside it stays invisible until it is activated. One query for the
 * active versions and one per result table for a whole page of images.
 */
export class ActiveResults {
  constructor(
    private readonly results: Pick<ResultsRepository, 'tagsOf' | 'facesOf' | 'textOf'>,
    private readonly taskModels: Pick<TaskModelsRepository, 'active'>,
  ) {}

  /** The model version each task serves; tasks with no result yet are absent. */
  async activeModels(): Promise<Partial<Record<InferenceTaskName, ModelRef>>> {
    const out: Partial<Record<InferenceTaskName, ModelRef>> = {};
    for (const a of await this.taskModels.active()) out[a.task] = a.model;
    return out;
  }

  /** The results of these images, by image id (every id is present). */
  async ofImages(imageIds: string[]): Promise<Map<string, ImageResults>> {
    const out = new Map<string, ImageResults>(
      imageIds.map((id) => [id, { tags: [], faces: [], text: [] }]),
    );
    if (imageIds.length === 0) return out;
    const active = await this.activeModels();
    const [tags, faces, text] = await Promise.all([
      active.tags ? this.results.tagsOf(imageIds, active.tags) : [],
      active.faces ? this.results.facesOf(imageIds, active.faces) : [],
      active.ocr ? this.results.textOf(imageIds, active.ocr) : [],
    ]);
    for (const t of tags) out.get(t.imageId)?.tags.push(t);
    for (const f of faces) out.get(f.imageId)?.faces.push(f);
    for (const l of text) out.get(l.imageId)?.text.push(l);
    return out;
  }
}
