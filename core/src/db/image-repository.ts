import type { AexEvent } from '@aex/shared';
import { and, desc, eq, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import {
  albumImages,
  albums,
  type ImageRow,
  type ImageTagRow,
  images,
  imageTags,
  type NewImageRow,
  outbox,
} from './schema.ts';

/** What a user may change on an image (PATCH, or a duplicate resolution's merge). */
export type ImageEdit = Partial<
  Pick<
    NewImageRow,
    | 'description'
    | 'visibility'
    | 'takenAt'
    | 'takenAtOffset'
    | 'takenAtSource'
    | 'keywords'
    | 'rating'
    | 'latitude'
    | 'longitude'
    | 'altitude'
  >
>;

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

  /** Rows of these images, in no particular order; ids that are not images are left out. */
  async findByIds(ids: string[]): Promise<ImageRow[]> {
    const out: ImageRow[] = [];
    // Chunked: Postgres takes at most 65,535 parameters in one statement.
    for (let i = 0; i < ids.length; i += 5000) {
      const chunk = ids.slice(i, i + 5000);
      out.push(...(await this.db.select().from(images).where(inArray(images.id, chunk))));
    }
    return out;
  }

  /** A user's edit of an image, with `updated_at` bumped; null when there is no such image. */
  async update(id: string, changes: ImageEdit): Promise<ImageRow | null> {
    const [row] = await this.db
      .update(images)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(eq(images.id, id))
      .returning();
    return row ?? null;
  }

  /** `(id, phash)` of every image that has a perceptual hash: the input of near-duplicate search. */
  async perceptualHashes(): Promise<Array<{ id: string; phash: bigint }>> {
    const rows = await this.db
      .select({ id: images.id, phash: images.phash })
      .from(images)
      .where(isNotNull(images.phash));
    return rows as Array<{ id: string; phash: bigint }>;
  }

  /**
   * Deletes images and writes the events announcing it in the same transaction (the outbox).
   * Their tags and album memberships go with them (ON DELETE CASCADE) and albums they were
   * the cover of get none (SET NULL). Returns the rows deleted; ids already gone are left out.
   */
  async deleteWithEvents(
    ids: string[],
    eventsFor: (row: ImageRow) => AexEvent[],
  ): Promise<ImageRow[]> {
    if (ids.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const deleted = await tx.delete(images).where(inArray(images.id, ids)).returning();
      const events = deleted.flatMap(eventsFor);
      if (events.length > 0) {
        await tx
          .insert(outbox)
          .values(events.map((e) => ({ id: e.id, subject: e.type, payload: e })));
      }
      return deleted;
    });
  }

  /**
   * Folds images into the one kept, in one transaction: the kept image joins every album
   * the others were in (at the place of the earliest of them) and becomes the cover where
   * one of them was; `merge` decides its new fields from all the rows; then the others are
   * deleted as `deleteWithEvents` does. `missing` lists ids that are not images.
   */
  async mergeAndDelete(
    keepId: string,
    removeIds: string[],
    merge: (keep: ImageRow, removed: ImageRow[]) => ImageEdit,
    eventsFor: (row: ImageRow) => AexEvent[],
  ): Promise<
    { status: 'done'; kept: ImageRow; deleted: ImageRow[] } | { status: 'missing'; ids: string[] }
  > {
    return this.db.transaction(async (tx) => {
      const all = [keepId, ...removeIds];
      // Locked in id order, so two resolutions over the same images cannot deadlock.
      const rows = await tx
        .select()
        .from(images)
        .where(inArray(images.id, all))
        .orderBy(images.id)
        .for('update');
      const byId = new Map(rows.map((r) => [r.id, r]));
      const missing = all.filter((id) => !byId.has(id));
      const keep = byId.get(keepId);
      if (missing.length > 0 || !keep) return { status: 'missing', ids: missing };
      const removed = removeIds.map((id) => byId.get(id) as ImageRow);
      await tx.execute(sql`insert into ${albumImages} (album_id, image_id, position)
        select ${albumImages.albumId}, ${keepId}::uuid, min(${albumImages.position})
        from ${albumImages} where ${inArray(albumImages.imageId, removeIds)}
        group by ${albumImages.albumId}
        on conflict (album_id, image_id) do nothing`);
      await tx
        .update(albums)
        .set({ coverImageId: keepId })
        .where(inArray(albums.coverImageId, removeIds));
      const [kept] = await tx
        .update(images)
        .set({ ...merge(keep, removed), updatedAt: sql`now()` })
        .where(eq(images.id, keepId))
        .returning();
      const deleted = await tx.delete(images).where(inArray(images.id, removeIds)).returning();
      const events = deleted.flatMap(eventsFor);
      if (events.length > 0) {
        await tx
          .insert(outbox)
          .values(events.map((e) => ({ id: e.id, subject: e.type, payload: e })));
      }
      return { status: 'done', kept: kept ?? keep, deleted };
    });
  }
}
