import type { AexEvent } from '@aex/shared';
import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from './database.ts';
import {
  type ImageRow,
  type ImageTagRow,
  images,
  imageTags,
  type NewImageRow,
  outbox,
} from './schema.ts';

/** Images and their tags in the metadata store. */
export class ImageRepository {
  constructor(private readonly db: Db) {}

  async findById(id: string): Promise<ImageRow | null> {
    const rows = await this.db.select().from(images).where(eq(images.id, id)).limit(1);
    return rows[0] ?? null;
  }

  async findBySha256(sha256: string): Promise<ImageRow | null> {
    const rows = await this.db.select().from(images).where(eq(images.sha256, sha256)).limit(1);
    return rows[0] ?? null;
  }

  /** The images among these sha256 sums that are stored, as sha256 → id. */
  async idsBySha256(sums: string[]): Promise<Map<string, string>> {
    if (sums.length === 0) return new Map();
    const rows = await this.db
      .select({ id: images.id, sha256: images.sha256 })
      .from(images)
      .where(inArray(images.sha256, sums));
    return new Map(rows.map((r) => [r.sha256, r.id]));
  }

  /** Newest first; ids are UUID v7, so id order is creation order and makes a stable cursor. */
  async list(options: { limit: number; beforeId?: string }): Promise<ImageRow[]> {
    return this.db
      .select()
      .from(images)
      .where(options.beforeId ? lt(images.id, options.beforeId) : undefined)
      .orderBy(desc(images.id))
      .limit(options.limit);
  }

  /** Tags of the given images, best score first. */
  async tagsOf(imageIds: string[]): Promise<ImageTagRow[]> {
    if (imageIds.length === 0) return [];
    return this.db
      .select()
      .from(imageTags)
      .where(inArray(imageTags.imageId, imageIds))
      .orderBy(desc(imageTags.score));
  }

  /**
   * Inserts an image and the events announcing it in one transaction (the outbox), unless an
   * image with the same sha256 exists: then nothing is written and `inserted` is null.
   */
  async insertWithEvents(
    row: NewImageRow,
    events: AexEvent[],
  ): Promise<{ inserted: ImageRow | null }> {
    return this.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(images)
        .values(row)
        .onConflictDoNothing({ target: images.sha256 })
        .returning();
      if (!created) return { inserted: null };
      if (events.length > 0) {
        await tx
          .insert(outbox)
          .values(events.map((e) => ({ id: e.id, subject: e.type, payload: e })));
      }
      return { inserted: created };
    });
  }

  /** Replaces one model's tags of an image: applying the same result twice leaves the same rows. */
  async replaceTags(
    imageId: string,
    model: { id: string; version: string },
    tags: Array<{ label: string; score: number }>,
    computedAt: Date,
  ): Promise<'applied' | 'image_missing'> {
    return this.db.transaction(async (tx) => {
      const found = await tx
        .select({ id: images.id })
        .from(images)
        .where(eq(images.id, imageId))
        .for('share');
      if (found.length === 0) return 'image_missing';
      const sameModel = and(
        eq(imageTags.imageId, imageId),
        eq(imageTags.modelId, model.id),
        eq(imageTags.modelVersion, model.version),
      );
      await tx.delete(imageTags).where(sameModel);
      // One row per label: a model that repeats a label keeps its best score.
      const best = new Map<string, number>();
      for (const t of tags) best.set(t.label, Math.max(best.get(t.label) ?? 0, t.score));
      if (best.size > 0) {
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
      }
      return 'applied';
    });
  }
}
