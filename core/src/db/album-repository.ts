import { and, desc, eq, inArray, lt, max, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { type AlbumRow, albumImages, albums, images } from './schema.ts';

/** An album and how many images it holds. */
export type AlbumWithCount = AlbumRow & { imageCount: number };

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Room left between neighbours when positions are (re)numbered. */
export const POSITION_GAP = 1024;
/**
 * Below this step between inserted neighbours the album is renumbered first. Positions stay
 * under ~1e8 (100k images × 1024), where a double still resolves 1.5e-8, so 1e-4 is far from
 * rounding; it takes ~23 insertions at the same spot to get there.
 */
export const MIN_POSITION_STEP = 1e-4;

/**
 * `count` positions spread evenly strictly between `prev` and `next`, or null when the steps
 * would be too small and the album should be renumbered first.
 */
export function positionsBetween(prev: number, next: number, count: number): number[] | null {
  const step = (next - prev) / (count + 1);
  if (!(step >= MIN_POSITION_STEP)) return null;
  return Array.from({ length: count }, (_, i) => prev + step * (i + 1));
}

export type AddImagesResult =
  | { status: 'done'; added: number }
  | { status: 'album_missing' }
  | { status: 'unknown_images'; ids: string[] }
  | { status: 'before_not_in_album' };

export type RemoveImagesResult =
  | { status: 'done'; removed: number }
  | { status: 'album_missing' }
  | { status: 'unknown_images'; ids: string[] };

export type ReorderResult =
  | { status: 'done' }
  | { status: 'album_missing' }
  | { status: 'not_a_permutation'; missing: string[]; extra: string[]; repeated: string[] };

export type UpdateAlbumResult =
  | { status: 'done'; album: AlbumWithCount }
  | { status: 'album_missing' }
  | { status: 'cover_not_in_album' };

const imageCount = sql<number>`(select count(*) from ${albumImages} where ${albumImages.albumId} = ${albums.id})::int`;

/**
 * Albums and their ordered membership. Order is a `double precision` position with gaps, so
 * adding or moving an image writes one row; when the gaps run out the album is renumbered.
 * Every change locks the album row first, so concurrent changes to one album queue up
 * instead of computing the same positions.
 */
export class AlbumRepository {
  constructor(private readonly db: Db) {}

  async create(row: { id: string; name: string; description: string | null }): Promise<AlbumRow> {
    const [created] = await this.db.insert(albums).values(row).returning();
    if (!created) throw new Error('insert into albums returned no row');
    return created;
  }

  /** Every album, newest first. */
  async list(): Promise<AlbumWithCount[]> {
    return this.db
      .select({ ...albumColumns(), imageCount })
      .from(albums)
      .orderBy(desc(albums.createdAt), desc(albums.id));
  }

  async get(id: string, tx: Db | Tx = this.db): Promise<AlbumWithCount | null> {
    const rows = await tx
      .select({ ...albumColumns(), imageCount })
      .from(albums)
      .where(eq(albums.id, id));
    return rows[0] ?? null;
  }

  async exists(id: string): Promise<boolean> {
    const rows = await this.db.select({ id: albums.id }).from(albums).where(eq(albums.id, id));
    return rows.length > 0;
  }

  /** Deletes an album; its images stay. False when there was none. */
  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(albums).where(eq(albums.id, id)).returning({ id: albums.id });
    return rows.length > 0;
  }

  async update(
    id: string,
    changes: { name?: string; description?: string | null; coverImageId?: string | null },
  ): Promise<UpdateAlbumResult> {
    return this.db.transaction(async (tx) => {
      if (!(await lockAlbum(tx, id))) return { status: 'album_missing' };
      if (changes.coverImageId) {
        const member = await tx
          .select({ id: albumImages.imageId })
          .from(albumImages)
          .where(and(eq(albumImages.albumId, id), eq(albumImages.imageId, changes.coverImageId)))
          .for('key share');
        if (member.length === 0) return { status: 'cover_not_in_album' };
      }
      await tx
        .update(albums)
        .set({ ...changes, updatedAt: sql`now()` })
        .where(eq(albums.id, id));
      const album = await this.get(id, tx);
      return album ? { status: 'done', album } : { status: 'album_missing' };
    });
  }

  /**
   * Adds images at the end, or just before `before`, in the order given. Images already in
   * the album stay where they are.
   */
  async addImages(albumId: string, imageIds: string[], before?: string): Promise<AddImagesResult> {
    return this.db.transaction(async (tx) => {
      if (!(await lockAlbum(tx, albumId))) return { status: 'album_missing' };
      const ids = [...new Set(imageIds)];
      // Key-share locks keep these images from being deleted before the insert below.
      const found = await tx
        .select({ id: images.id })
        .from(images)
        .where(inArray(images.id, ids))
        .for('key share');
      const known = new Set(found.map((r) => r.id));
      const unknown = ids.filter((id) => !known.has(id));
      if (unknown.length > 0) return { status: 'unknown_images', ids: unknown };
      const members = new Set(
        (
          await tx
            .select({ id: albumImages.imageId })
            .from(albumImages)
            .where(and(eq(albumImages.albumId, albumId), inArray(albumImages.imageId, ids)))
        ).map((r) => r.id),
      );
      const toAdd = ids.filter((id) => !members.has(id));
      let positions: number[];
      if (before !== undefined) {
        const planned = await planBefore(tx, albumId, before, toAdd.length);
        if (!planned) return { status: 'before_not_in_album' };
        positions = planned;
      } else {
        const [last] = await tx
          .select({ p: max(albumImages.position) })
          .from(albumImages)
          .where(eq(albumImages.albumId, albumId));
        const start = last?.p ?? 0;
        positions = toAdd.map((_, i) => start + POSITION_GAP * (i + 1));
      }
      if (toAdd.length > 0) {
        await tx
          .insert(albumImages)
          .values(toAdd.map((imageId, i) => ({ albumId, imageId, position: positions[i] ?? 0 })));
        await touch(tx, albumId);
      }
      return { status: 'done', added: toAdd.length };
    });
  }

  /** Removes images (those not in the album are ignored); a removed cover is unset. */
  async removeImages(albumId: string, imageIds: string[]): Promise<RemoveImagesResult> {
    return this.db.transaction(async (tx) => {
      if (!(await lockAlbum(tx, albumId))) return { status: 'album_missing' };
      const ids = [...new Set(imageIds)];
      const found = await tx.select({ id: images.id }).from(images).where(inArray(images.id, ids));
      const known = new Set(found.map((r) => r.id));
      const unknown = ids.filter((id) => !known.has(id));
      if (unknown.length > 0) return { status: 'unknown_images', ids: unknown };
      const removed = await tx
        .delete(albumImages)
        .where(and(eq(albumImages.albumId, albumId), inArray(albumImages.imageId, ids)))
        .returning({ id: albumImages.imageId });
      if (removed.length > 0) {
        // The cover is always an image of the album (UpdateAlbum enforces it), so it goes too.
        await tx
          .update(albums)
          .set({ coverImageId: null })
          .where(and(eq(albums.id, albumId), inArray(albums.coverImageId, ids)));
        await touch(tx, albumId);
      }
      return { status: 'done', removed: removed.length };
    });
  }

  /** Sets the album's complete order; `imageIds` must be exactly its images, once each. */
  async reorder(albumId: string, imageIds: string[]): Promise<ReorderResult> {
    return this.db.transaction(async (tx) => {
      if (!(await lockAlbum(tx, albumId))) return { status: 'album_missing' };
      const current = new Set(
        (
          await tx
            .select({ id: albumImages.imageId })
            .from(albumImages)
            .where(eq(albumImages.albumId, albumId))
        ).map((r) => r.id),
      );
      const seen = new Set<string>();
      const repeated = new Set<string>();
      for (const id of imageIds) (seen.has(id) ? repeated : seen).add(id);
      const missing = [...current].filter((id) => !seen.has(id));
      const extra = [...seen].filter((id) => !current.has(id));
      if (missing.length + extra.length + repeated.size > 0) {
        return { status: 'not_a_permutation', missing, extra, repeated: [...repeated] };
      }
      if (imageIds.length > 0) {
        // One array parameter rather than one parameter per id: Postgres takes at most
        // 65,535 parameters, and an album may hold 100,000 images.
        await tx.execute(sql`update ${albumImages} set position = o.n * ${POSITION_GAP}
          from unnest(${uuidArray(imageIds)}::uuid[]) with ordinality as o(image_id, n)
          where ${albumImages.albumId} = ${albumId} and ${albumImages.imageId} = o.image_id`);
      }
      await touch(tx, albumId);
      return { status: 'done' };
    });
  }
}

function albumColumns() {
  return {
    id: albums.id,
    name: albums.name,
    description: albums.description,
    coverImageId: albums.coverImageId,
    createdAt: albums.createdAt,
    updatedAt: albums.updatedAt,
  };
}

async function lockAlbum(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx
    .select({ id: albums.id })
    .from(albums)
    .where(eq(albums.id, id))
    .for('update');
  return rows.length > 0;
}

async function touch(tx: Tx, albumId: string): Promise<void> {
  await tx.update(albums).set({ updatedAt: sql`now()` }).where(eq(albums.id, albumId));
}

/** Positions for `count` images just before `before`; null when `before` is not a member. */
async function planBefore(
  tx: Tx,
  albumId: string,
  before: string,
  count: number,
): Promise<number[] | null> {
  const neighbours = async () => {
    const [anchor] = await tx
      .select({ p: albumImages.position })
      .from(albumImages)
      .where(and(eq(albumImages.albumId, albumId), eq(albumImages.imageId, before)));
    if (!anchor) return null;
    const [prev] = await tx
      .select({ p: max(albumImages.position) })
      .from(albumImages)
      .where(and(eq(albumImages.albumId, albumId), lt(albumImages.position, anchor.p)));
    return { next: anchor.p, prev: prev?.p ?? anchor.p - POSITION_GAP * (count + 1) };
  };
  const first = await neighbours();
  if (!first) return null;
  if (count === 0) return [];
  const planned = positionsBetween(first.prev, first.next, count);
  if (planned) return planned;
  await renumber(tx, albumId);
  const second = await neighbours();
  return second ? positionsBetween(second.prev, second.next, count) : null;
}

/** Spreads the album's positions out again (1024, 2048, …), keeping its order. */
async function renumber(tx: Tx, albumId: string): Promise<void> {
  await tx.execute(sql`update ${albumImages} set position = r.n * ${POSITION_GAP}
    from (select image_id, row_number() over (order by position, image_id) as n
          from ${albumImages} where album_id = ${albumId}) r
    where ${albumImages.albumId} = ${albumId} and ${albumImages.imageId} = r.image_id`);
}

/** A Postgres array literal of ids that were validated as UUIDs (no quoting needed). */
function uuidArray(ids: string[]): string {
  return `{${ids.join(',')}}`;
}
