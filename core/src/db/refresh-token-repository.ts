import { and, eq, isNull, lt } from 'drizzle-orm';
import type { Db } from './database.ts';
import { type RefreshTokenRow, refreshTokens } from './identity-schema.ts';

/** Refresh tokens by the sha256 of their value; families are one login's chain of rotations. */
export class RefreshTokenRepository {
  constructor(private readonly db: Db) {}

  async insert(row: Omit<RefreshTokenRow, 'rotatedAt' | 'revokedAt'>): Promise<void> {
    await this.db.insert(refreshTokens).values(row);
  }

  async findByHash(tokenHash: string): Promise<RefreshTokenRow | null> {
    const rows = await this.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .limit(1);
    return rows[0] ?? null;
  }

  /**
   * Marks a live token as used; false when it already was (or was revoked) in the meantime,
   * so of two concurrent uses of one token exactly one wins.
   */
  async markRotated(id: string, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(refreshTokens)
      .set({ rotatedAt: now })
      .where(
        and(
          eq(refreshTokens.id, id),
          isNull(refreshTokens.rotatedAt),
          isNull(refreshTokens.revokedAt),
        ),
      )
      .returning({ id: refreshTokens.id });
    return rows.length > 0;
  }

  /** Revokes every token of a family (a logout, or a stolen token replayed). */
  async revokeFamily(familyId: string, now: Date): Promise<void> {
    await this.db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
  }

  /** Revokes every token of a user (disabled, or given a new password). */
  async revokeUser(userId: string, now: Date): Promise<void> {
    await this.db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
  }

  /** Deletes tokens that expired before `before`; returns how many. */
  async deleteExpired(before: Date): Promise<number> {
    const rows = await this.db
      .delete(refreshTokens)
      .where(lt(refreshTokens.expiresAt, before))
      .returning({ id: refreshTokens.id });
    return rows.length;
  }
}
