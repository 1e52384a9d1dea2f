import { asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { type OutboxRow, outbox } from './schema.ts';

/** The outbox table: events waiting to be published. */
export class OutboxRepository {
  constructor(private readonly db: Db) {}

  /**
   * Locks up to `limit` of the oldest events (skipping rows another relay holds, so core
   * replicas share the work), hands them to `publish`, and deletes the ones it published.
   * `publish` returns the ids it published and, if it stopped early, the error.
   */
  async drain(
    limit: number,
    publish: (
      rows: OutboxRow[],
    ) => Promise<{ published: string[]; failed?: { id: string; error: string } }>,
    options: { olderThanMs?: number } = {},
  ): Promise<{ published: number; failed: boolean }> {
    const cutoff =
      options.olderThanMs && options.olderThanMs > 0
        ? lt(outbox.createdAt, new Date(Date.now() - options.olderThanMs))
        : undefined;
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(outbox)
        .where(cutoff)
        .orderBy(asc(outbox.createdAt), asc(outbox.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return { published: 0, failed: false };
      const result = await publish(rows);
      if (result.published.length > 0) {
        await tx.delete(outbox).where(inArray(outbox.id, result.published));
      }
      if (result.failed) {
        await tx
          .update(outbox)
          .set({ attempts: sql`${outbox.attempts} + 1`, lastError: result.failed.error })
          .where(eq(outbox.id, result.failed.id));
      }
      return { published: result.published.length, failed: result.failed !== undefined };
    });
  }

  /** Forgets events that were published (by the relay's fast path). */
  async deleteIds(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.db.delete(outbox).where(inArray(outbox.id, ids));
  }

  async count(): Promise<number> {
    const rows = await this.db.select({ n: sql<number>`count(*)::int` }).from(outbox);
    return rows[0]?.n ?? 0;
  }
}
