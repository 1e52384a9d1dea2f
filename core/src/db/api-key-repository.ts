import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { type ApiKeyRow, apiKeys, users } from './identity-schema.ts';

/** An API key with whether the user who created it has been disabled since. */
export interface ApiKeyForVerification {
  key: ApiKeyRow;
  creatorDisabled: boolean;
}

/** The `api_keys` table: names, roles and the sha256 of each key's secret. */
export class ApiKeyRepository {
  constructor(private readonly db: Db) {}

  async insert(row: Omit<ApiKeyRow, 'lastUsedAt' | 'revokedAt'>): Promise<ApiKeyRow> {
    const [created] = await this.db.insert(apiKeys).values(row).returning();
    if (!created) throw new Error('insert into api_keys returned no row');
    return created;
  }

  /** Every key, newest first, revoked ones included (their rows are the record). */
  async list(): Promise<ApiKeyRow[]> {
    return this.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
  }

  async findById(id: string): Promise<ApiKeyRow | null> {
    const rows = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
    return rows[0] ?? null;
  }

  /** The key and its creator's state, in one query: it runs on every API-key request. */
  async findForVerification(id: string): Promise<ApiKeyForVerification | null> {
    const rows = await this.db
      .select({ key: apiKeys, creatorDisabled: users.disabled })
      .from(apiKeys)
      .leftJoin(users, eq(sql`${users.id}::text`, apiKeys.createdBy))
      .where(eq(apiKeys.id, id))
      .limit(1);
    const row = rows[0];
    return row ? { key: row.key, creatorDisabled: row.creatorDisabled === true } : null;
  }

  /** Revokes a key (a no-op on one already revoked); null when there is no such key. */
  async revoke(id: string, now: Date): Promise<ApiKeyRow | null> {
    await this.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
    return this.findById(id);
  }

  /**
   * Records a use, at most once per `minGapMs`: without the condition every request by a busy
   * script would write a row.
   */
  async touch(id: string, now: Date, minGapMs: number): Promise<void> {
    await this.db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(
        and(
          eq(apiKeys.id, id),
          or(
            isNull(apiKeys.lastUsedAt),
            lt(apiKeys.lastUsedAt, new Date(now.getTime() - minGapMs)),
          ),
        ),
      );
  }
}
