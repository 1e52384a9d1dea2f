import { type InferenceTaskName, MAX_FACES_PER_RESULT, type ModelRef } from '@aex/shared';
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from './database.ts';
import {
  type ImageFaceRow,
  type ImageTagRow,
  type ImageTextLineRow,
  imageFaces,
  imageResults,
  images,
  imageTags,
  imageTextLines,
  taskModels,
} from './schema.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The `image_results` row a result replaces, read under its lock. */
interface PreviousResult {
  computedAt: Date;
  faceVectorBound: number | null;
}

/** Task-specific columns of `image_results` a write sets along with its rows. */
type ResultRowExtras = { faceVectorBound?: number };

/**
 * What applying a result did: `applied`; `image_missing` (deleted before its result came);
 * `stale` (this model version already has a newer result for the image, so an old delivery
 * arriving late must not overwrite it).
 */
export type ApplyStatus = 'applied' | 'image_missing' | 'stale';

export interface FaceRowInput {
  id: string;
  box: { x: number; y: number; width: number; height: number };
  landmarks: Array<[number, number]>;
  score: number;
}

export interface TextLineInput {
  text: string;
  confidence: number;
  polygon: Array<[number, number]>;
}

/**
 * Writes inference results. Every write is one transaction that locks the image row (so a
 * concurrent delete waits or wins cleanly), replaces the rows of that one model version,
 * records the version in `image_results` (what reindex reads) and makes the version the
 * task's active one when the task has none yet. Other versions' rows are never touched: a new
 * model fills in beside the old, which keeps serving until it is activated.
 */
export class ResultsRepository {
  constructor(private readonly db: Db) {}

  /** One model's labels of an image; a label repeated in the result keeps its best score. */
  async replaceTags(
    imageId: string,
    model: ModelRef,
    tags: Array<{ label: string; score: number }>,
    computedAt: Date,
  ): Promise<ApplyStatus> {
    return this.apply(imageId, 'tags', model, computedAt, async (tx) => {
      await tx
        .delete(imageTags)
        .where(and(eq(imageTags.imageId, imageId), ...sameModel(imageTags, model)));
      const best = new Map<string, number>();
      for (const t of tags) best.set(t.label, Math.max(best.get(t.label) ?? 0, t.score));
      if (best.size === 0) return;
      await tx.insert(imageTags).values(
        [...best].map(([label, score]) => ({
          imageId,
          modelId: model.id,
          modelVersion: model.version,
          label,
          score,
          computedAt,
        })),
      );
    });
  }

  /**
   * One embedder's faces of an image. `vectorBound`: the face ids from `faces.length` up to it
   * may still hold vectors of this image in the version's collection (see `faceVectorBound`);
   * it is raised to at least `faces.length` here, before any vector is written.
   */
  async replaceFaces(
    imageId: string,
    model: ModelRef,
    detector: ModelRef,
    faces: FaceRowInput[],
    computedAt: Date,
  ): Promise<{ status: ApplyStatus; vectorBound: number }> {
    let vectorBound = faces.length;
    const status = await this.apply(
      imageId,
      'faces',
      model,
      computedAt,
      async (tx, previous) => {
        // No result row: no vector was ever written for this image and version (vectors follow
        // the row's commit). A row from before the bound existed: any id may hold one.
        const before = previous ? (previous.faceVectorBound ?? MAX_FACES_PER_RESULT) : 0;
        vectorBound = Math.max(before, faces.length);
        await tx
          .delete(imageFaces)
          .where(and(eq(imageFaces.imageId, imageId), ...sameModel(imageFaces, model)));
        if (faces.length > 0) {
          await tx.insert(imageFaces).values(
            faces.map((f) => ({
              id: f.id,
              imageId,
              modelId: model.id,
              modelVersion: model.version,
              detectorId: detector.id,
              detectorVersion: detector.version,
              ...f.box,
              landmarks: f.landmarks,
              score: f.score,
              computedAt,
            })),
          );
        }
      },
      () => ({ faceVectorBound: vectorBound }),
    );
    return { status, vectorBound };
  }

  /** One recogniser's lines of an image, numbered in the order given. */
  async replaceText(
    imageId: string,
    model: ModelRef,
    lines: TextLineInput[],
    computedAt: Date,
  ): Promise<ApplyStatus> {
    return this.apply(imageId, 'ocr', model, computedAt, async (tx) => {
      await tx
        .delete(imageTextLines)
        .where(and(eq(imageTextLines.imageId, imageId), ...sameModel(imageTextLines, model)));
      // A thousand lines of a few hundred characters stay far below Postgres's parameter cap.
      for (let i = 0; i < lines.length; i += 500) {
        await tx.insert(imageTextLines).values(
          lines.slice(i, i + 500).map((line, j) => ({
            imageId,
            modelId: model.id,
            modelVersion: model.version,
            lineNo: i + j,
            text: line.text,
            confidence: line.confidence,
            polygon: line.polygon,
            computedAt,
          })),
        );
      }
    });
  }

  /** An embedding stored in the vector index: only the coverage row lives here. */
  async recordEmbedding(imageId: string, model: ModelRef, computedAt: Date): Promise<ApplyStatus> {
    return this.apply(imageId, 'clip', model, computedAt, async () => {});
  }

  /** Whether the image exists (a cheap check before work that must not outlive it). */
  async imageExists(imageId: string): Promise<boolean> {
    const rows = await this.db.select({ id: images.id }).from(images).where(eq(images.id, imageId));
    return rows.length > 0;
  }

  /** Ids of an image's faces from one embedder: their vectors go when the faces are replaced. */
  async faceIdsOf(imageId: string, model: ModelRef): Promise<string[]> {
    const rows = await this.db
      .select({ id: imageFaces.id })
      .from(imageFaces)
      .where(and(eq(imageFaces.imageId, imageId), ...sameModel(imageFaces, model)));
    return rows.map((r) => r.id);
  }

  /** Labels of these images from one model version, best score first. */
  async tagsOf(imageIds: string[], model: ModelRef): Promise<ImageTagRow[]> {
    if (imageIds.length === 0) return [];
    return this.db
      .select()
      .from(imageTags)
      .where(and(inArray(imageTags.imageId, imageIds), ...sameModel(imageTags, model)))
      .orderBy(desc(imageTags.score), asc(imageTags.label));
  }

  /** Faces of these images from one embedder, best score first. */
  async facesOf(imageIds: string[], model: ModelRef): Promise<ImageFaceRow[]> {
    if (imageIds.length === 0) return [];
    return this.db
      .select()
      .from(imageFaces)
      .where(and(inArray(imageFaces.imageId, imageIds), ...sameModel(imageFaces, model)))
      .orderBy(desc(imageFaces.score), asc(imageFaces.id));
  }

  /** Text lines of these images from one recogniser, in reading order. */
  async textOf(imageIds: string[], model: ModelRef): Promise<ImageTextLineRow[]> {
    if (imageIds.length === 0) return [];
    return this.db
      .select()
      .from(imageTextLines)
      .where(and(inArray(imageTextLines.imageId, imageIds), ...sameModel(imageTextLines, model)))
      .orderBy(asc(imageTextLines.imageId), asc(imageTextLines.lineNo));
  }

  private async apply(
    imageId: string,
    task: InferenceTaskName,
    model: ModelRef,
    computedAt: Date,
    write: (tx: Tx, previous: PreviousResult | undefined) => Promise<void>,
    /** Task-specific columns of the results row, asked for once `write` is done. */
    extras: () => ResultRowExtras = () => ({}),
  ): Promise<ApplyStatus> {
    return this.db.transaction(async (tx) => {
      // FOR SHARE: results of several tasks for one image apply side by side, while a DELETE
      // of the image waits for them (or they find it gone).
      const found = await tx
        .select({ id: images.id })
        .from(images)
        .where(eq(images.id, imageId))
        .for('share');
      if (found.length === 0) return 'image_missing';
      const [previous] = await tx
        .select({
          computedAt: imageResults.computedAt,
          faceVectorBound: imageResults.faceVectorBound,
        })
        .from(imageResults)
        .where(
          and(
            eq(imageResults.imageId, imageId),
            eq(imageResults.task, task),
            ...sameModel(imageResults, model),
          ),
        )
        .for('update');
      // Equal times are the same result delivered again: applied again, to the same rows.
      if (previous && previous.computedAt > computedAt) return 'stale';
      await write(tx, previous);
      const columns = extras();
      await tx
        .insert(imageResults)
        .values({
          imageId,
          task,
          modelId: model.id,
          modelVersion: model.version,
          computedAt,
          ...columns,
        })
        .onConflictDoUpdate({
          target: [
            imageResults.imageId,
            imageResults.task,
            imageResults.modelId,
            imageResults.modelVersion,
          ],
          set: { computedAt, ...columns },
        });
      // The first version to produce a result for a task serves it (until `activate`).
      await tx
        .insert(taskModels)
        .values({ task, modelId: model.id, modelVersion: model.version })
        .onConflictDoNothing({ target: taskModels.task });
      return 'applied';
    });
  }
}

/** `model_id = … and model_version = …` on any result table. */
export function sameModel(
  table: { modelId: AnyPgColumn; modelVersion: AnyPgColumn },
  model: ModelRef,
) {
  return [eq(table.modelId, model.id), eq(table.modelVersion, model.version)] as const;
}
