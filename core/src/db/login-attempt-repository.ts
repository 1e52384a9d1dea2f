import { eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { loginAttempts } from './identity-schema.ts';

/** When login attempts on one key are slowed down. */
export interface ThrottleRule {
  /** Failures allowed before attempts are spaced out. */
  freeFailures: number;
  /** Failures are forgotten after this long without one, counted from the end of the wait. */
  windowMs: number;
  /** Longest wait between two attempts. */
  maxWaitMs: number;
}

export type ClaimOutcome = { allowed: true } | { allowed: false; retryAt: Date };

/**
 * How long after the last of `failures` failures the next attempt may come: nothing up to
 * `freeFailures`, then 1 s, 2 s, 4 s … capped at `maxWaitMs`.
 */
export function waitAfter(failures: number, rule: ThrottleRule): number {
  if (failures < rule.freeFailures) return 0;
  return Math.min(2 ** (failures - rule.freeFailures) * 1000, rule.maxWaitMs);
}

/** Failed logins per key, shared by every core replica. */
export class LoginAttemptRepository {
  constructor(private readonly db: Db) {}

  /**
   * Takes an attempt on `key`: allowed unless the key must still wait, and then counted as a
   * failure in advance (undone by `forgive` or `clear` when it succeeds). Counting before the
   * password is checked, in one atomic upsert, is what stops a burst of parallel guesses from
   * all slipping through while the count is still low.
   */
  async claim(key: string, now: Date, rule: ThrottleRule): Promise<ClaimOutcome> {
    const at = sql`${now.toISOString()}::timestamptz`;
    const t = loginAttempts;
    // The wait after the last failure (waitAfter in SQL), and the moment it ends.
    const waitMs = sql`case when ${t.failures} < ${rule.freeFailures} then 0
      else least(power(2, ${t.failures} - ${rule.freeFailures}) * 1000, ${rule.maxWaitMs}::double precision) end`;
    const waitEnds = sql`${t.lastFailureAt} + (${waitMs}) * interval '1 millisecond'`;
    // Failures are forgotten after windowMs of quiet once the wait is over: never forgotten by
    // waiting out the longest wait alone, which would hand out five fresh guesses every time.
    const forgotten = sql`${waitEnds} + ${rule.windowMs}::double precision * interval '1 millisecond' <= ${at}`;
    const claimed = await this.db
      .insert(t)
      .values({ key, failures: 1, lastFailureAt: now })
      .onConflictDoUpdate({
        target: t.key,
        set: {
          failures: sql`case when ${forgotten} then 1 else ${t.failures} + 1 end`,
          lastFailureAt: at,
        },
        setWhere: sql`${waitEnds} <= ${at}`,
      })
      .returning({ failures: t.failures });
    if (claimed.length > 0) return { allowed: true };
    const [row] = await this.db.select().from(t).where(eq(t.key, key)).limit(1);
    // The row can only have gone if a success cleared it just now: let the attempt in.
    if (!row) return { allowed: true };
    return {
      allowed: false,
      retryAt: new Date(row.lastFailureAt.getTime() + waitAfter(row.failures, rule)),
    };
  }

  /**
   * Dates the last failure on `keys` to `at`, when the check that failed has ended: the wait
   * then runs from the moment the client learns of the failure, not from when it asked
   * (argon2 on a busy machine can take most of a second).
   */
  async failedAt(keys: string[], at: Date): Promise<void> {
    if (keys.length === 0) return;
    await this.db
      .update(loginAttempts)
      .set({ lastFailureAt: at })
      .where(inArray(loginAttempts.key, keys));
  }

  /** Takes back one failure counted in advance (the attempt succeeded, or was not made). */
  async forgive(key: string): Promise<void> {
    await this.db
      .update(loginAttempts)
      .set({ failures: sql`greatest(${loginAttempts.failures} - 1, 0)` })
      .where(eq(loginAttempts.key, key));
  }

  /** Forgets every failure on `key` (a successful login resets its email's count). */
  async clear(key: string): Promise<void> {
    await this.db.delete(loginAttempts).where(eq(loginAttempts.key, key));
  }

  /** Deletes keys whose last failure was before `before` (forgotten by now); returns how many. */
  async deleteOlderThan(before: Date): Promise<number> {
    const rows = await this.db
      .delete(loginAttempts)
      .where(lt(loginAttempts.lastFailureAt, before))
      .returning({ key: loginAttempts.key });
    return rows.length;
  }
}
