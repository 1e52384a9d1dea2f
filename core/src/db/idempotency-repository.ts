import { and, eq, lt, or } from 'drizzle-orm';
import type { Db } from './database.ts';
import { type IdempotencyKeyRow, idempotencyKeys } from './schema.ts';

/** `status` of an entry whose request is still being worked on. */
export const IN_PROGRESS = 0;

/** What was answered to a request sent with an Idempotency-Key, to answer its retries. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The outcome of `claim`: the caller owns the key now, or someone already does. */
export type ClaimResult = { claimed: true } | { claimed: false; row: IdempotencyKeyRow };

/**
 * The `idempotency_keys` table. While a request is in progress its row has status 0 and,
 * as fingerprint, the claim's token, so only the claimant can complete or release it.
 */
export class IdempotencyRepository {
  constructor(private readonly db: Db) {}

  /**
   * Takes `key` for a new request: inserts it, or takes over a row that expired (created
   * before `expiredBefore`) or was abandoned in progress (before `staleBefore`). Atomic on
   * Postgres: of concurrent claims exactly one wins (INSERT … ON CONFLICT, and an UPDATE
   * whose condition is re-checked under the row lock). Otherwise returns the row that holds it.
   */
  async claim(
    key: string,
    token: string,
    times: { now: Date; expiredBefore: Date; staleBefore: Date },
  ): Promise<ClaimResult> {
    const fresh = {
      fingerprint: token,
      status: IN_PROGRESS,
      response: {},
      createdAt: times.now,
    };
    // A row can vanish between the statements (a sweep, a release): then go round again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.db
        .insert(idempotencyKeys)
        .values({ key, ...fresh })
        .onConflictDoNothing({ target: idempotencyKeys.key })
        .returning({ key: idempotencyKeys.key });
      if (inserted.length > 0) return { claimed: true };
      const taken = await this.db
        .update(idempotencyKeys)
        .set(fresh)
        .where(
          and(
            eq(idempotencyKeys.key, key),
            or(
              lt(idempotencyKeys.createdAt, times.expiredBefore),
              and(
                eq(idempotencyKeys.status, IN_PROGRESS),
                lt(idempotencyKeys.createdAt, times.staleBefore),
              ),
            ),
          ),
        )
        .returning({ key: idempotencyKeys.key });
      if (taken.length > 0) return { claimed: true };
      const [row] = await this.db
        .select()
        .from(idempotencyKeys)
        .where(eq(idempotencyKeys.key, key))
        .limit(1);
      if (row) return { claimed: false, row };
    }
    throw new Error(`could not claim idempotency key ${JSON.stringify(key)}`);
  }

  /** Stores the answer of a claimed key; false when the claim was lost (taken over as stale). */
  async complete(
    key: string,
    token: string,
    fingerprint: string,
    response: StoredResponse,
  ): Promise<boolean> {
    const rows = await this.db
      .update(idempotencyKeys)
      .set({ fingerprint, status: response.status, response })
      .where(and(eq(idempotencyKeys.key, key), eq(idempotencyKeys.fingerprint, token)))
      .returning({ key: idempotencyKeys.key });
    return rows.length > 0;
  }

  /** Gives a claimed key back, so a retry does the work. */
  async release(key: string, token: string): Promise<void> {
    await this.db
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.key, key), eq(idempotencyKeys.fingerprint, token)));
  }

  /** Deletes every entry created before `before`; returns how many. */
  async deleteCreatedBefore(before: Date): Promise<number> {
    const rows = await this.db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.createdAt, before))
      .returning({ key: idempotencyKeys.key });
    return rows.length;
  }

  async find(key: string): Promise<IdempotencyKeyRow | null> {
    const rows = await this.db
      .select()
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.key, key))
      .limit(1);
    return rows[0] ?? null;
  }
}
