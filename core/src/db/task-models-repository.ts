import type { AexEvent, InferenceTaskName, ModelRef } from '@aex/shared';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { sameModel } from './results-repository.ts';
import { imageResults, images, outbox, taskModels } from './schema.ts';

/** The model version a task serves, and since when. */
export interface ActiveModel {
  task: InferenceTaskName;
  model: ModelRef;
  activatedAt: Date;
}

/** An image a reindex asks the workers about again. */
export interface ReindexCandidate {
  id: string;
  sha256: string;
  previewKey: string;
}

/**
 * Which model version each task serves (`task_models`), how far each version's results cover
 * the images (`image_results`), and the images a version has not answered yet.
 */
export class TaskModelsRepository {
  constructor(private readonly db: Db) {}

  async active(): Promise<ActiveModel[]> {
    const rows = await this.db.select().from(taskModels).orderBy(asc(taskModels.task));
    return rows.map((r) => ({
      task: r.task as InferenceTaskName,
      model: { id: r.modelId, version: r.modelVersion },
      activatedAt: r.activatedAt,
    }));
  }

  /** Makes `model` the version `task` serves, whoever served it before. */
  async activate(task: InferenceTaskName, model: ModelRef): Promise<ActiveModel> {
    const [row] = await this.db
      .insert(taskModels)
      .values({ task, modelId: model.id, modelVersion: model.version })
      .onConflictDoUpdate({
        target: taskModels.task,
        set: { modelId: model.id, modelVersion: model.version, activatedAt: sql`now()` },
      })
      .returning();
    return { task, model, activatedAt: row?.activatedAt ?? new Date() };
  }

  /** How many images exist. */
  async imageCount(): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(images);
    return row?.n ?? 0;
  }

  /** How many images have a result of this version (rows go with their image: ON DELETE CASCADE). */
  async covered(task: InferenceTaskName, model: ModelRef): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(imageResults)
      .where(and(eq(imageResults.task, task), ...sameModel(imageResults, model)));
    return row?.n ?? 0;
  }

  /** Every version that has results, per task, with how many images it covers. */
  async versions(): Promise<Array<{ task: string; model: ModelRef; images: number }>> {
    const rows = await this.db
      .select({
        task: imageResults.task,
        modelId: imageResults.modelId,
        modelVersion: imageResults.modelVersion,
        n: sql<number>`count(*)::int`,
      })
      .from(imageResults)
      .groupBy(imageResults.task, imageResults.modelId, imageResults.modelVersion)
      .orderBy(asc(imageResults.task), asc(imageResults.modelId), asc(imageResults.modelVersion));
    return rows.map((r) => ({
      task: r.task,
      model: { id: r.modelId, version: r.modelVersion },
      images: r.n,
    }));
  }

  /** Whether the image has a result of this version. */
  async hasResult(imageId: string, task: InferenceTaskName, model: ModelRef): Promise<boolean> {
    const rows = await this.db
      .select({ id: imageResults.imageId })
      .from(imageResults)
      .where(
        and(
          eq(imageResults.imageId, imageId),
          eq(imageResults.task, task),
          ...sameModel(imageResults, model),
        ),
      );
    return rows.length > 0;
  }

  /**
   * Up to `limit` images, in id order after `after`, that lack a result of this version: an
   * anti-join on `image_results`' primary key (image_id, task, model_id, model_version), so a
   * batch costs the same at the end of a million images as at the start.
   */
  async lacking(
    task: InferenceTaskName,
    model: ModelRef,
    options: { after?: string; limit: number },
  ): Promise<ReindexCandidate[]> {
    return this.db
      .select({ id: images.id, sha256: images.sha256, previewKey: images.previewKey })
      .from(images)
      .where(
        and(
          options.after === undefined ? undefined : gt(images.id, options.after),
          sql`not exists (select 1 from ${imageResults} where ${imageResults.imageId} = ${images.id}
            and ${imageResults.task} = ${task} and ${imageResults.modelId} = ${model.id}
            and ${imageResults.modelVersion} = ${model.version})`,
        ),
      )
      .orderBy(asc(images.id))
      .limit(options.limit);
  }

  /** Writes events to the outbox, for the relay to publish (at least once). */
  async enqueue(events: AexEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db
      .insert(outbox)
      .values(events.map((e) => ({ id: e.id, subject: e.type, payload: e })));
  }
}
