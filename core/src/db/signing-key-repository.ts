import { asc, gt, isNull, or, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { type SigningKeyRow, signingKeys } from './identity-schema.ts';

export type NewSigningKey = Omit<SigningKeyRow, 'retiredAt'>;

// Any fixed 64-bit number: replicas starting together make one first key, and rotations queue.
const SIGNING_KEYS_LOCK = 0x4145_5802;

/** The built-in issuer's signing keys (see `signingKeys` for their life cycle). */
export class SigningKeyRepository {
  constructor(private readonly db: Db) {}

  /** Makes the first key with `make` when there is none (once, across replicas). */
  async ensureOne(make: () => Promise<NewSigningKey>): Promise<void> {
    if (await this.any()) return;
    const key = await make();
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${SIGNING_KEYS_LOCK})`);
      const [existing] = await tx.select({ kid: signingKeys.kid }).from(signingKeys).limit(1);
      if (!existing) await tx.insert(signingKeys).values(key);
    });
  }

  /**
   * Keys that sign or may have signed a live token, or will sign: not retired, or retired
   * after `retiredAfter`. Oldest activation first.
   */
  async live(retiredAfter: Date): Promise<SigningKeyRow[]> {
    return this.db
      .select()
      .from(signingKeys)
      .where(or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, retiredAfter)))
      .orderBy(asc(signingKeys.activatesAt), asc(signingKeys.createdAt));
  }

  /**
   * Adds `key`, which signs from its `activatesAt` on; every key without a successor so far
   * retires then.
   */
  async rotate(key: NewSigningKey): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${SIGNING_KEYS_LOCK})`);
      await tx
        .update(signingKeys)
        .set({ retiredAt: key.activatesAt })
        .where(isNull(signingKeys.retiredAt));
      await tx.insert(signingKeys).values(key);
    });
  }

  private async any(): Promise<boolean> {
    const rows = await this.db.select({ kid: signingKeys.kid }).from(signingKeys).limit(1);
    return rows.length > 0;
  }
}
