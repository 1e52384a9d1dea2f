import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from './database.ts';
import { type NewUserRow, type UserRow, users } from './identity-schema.ts';

/** The changes an admin can make to a user (the password as its new hash). */
export interface UserChanges {
  displayName?: string;
  role?: UserRow['role'];
  disabled?: boolean;
  passwordHash?: string;
}

export type UpdateUserResult =
  | { status: 'done'; user: UserRow }
  | { status: 'missing' }
  /** The change would leave no enabled admin. */
  | { status: 'last_admin' };

// Any fixed 64-bit number: replicas starting together create the first admin only once.
const FIRST_USER_LOCK = 0x4145_5801;

/** The `users` table of the built-in issuer. Emails are unique and matched case-insensitively. */
export class UserRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts `row` only when there is no user at all; null when there already is one. Under a
   * transaction-scoped advisory lock, so replicas starting together create one first admin.
   */
  async createFirstUser(row: NewUserRow): Promise<UserRow | null> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`);
      const [any] = await tx.select({ id: users.id }).from(users).limit(1);
      if (any) return null;
      const [created] = await tx.insert(users).values(row).returning();
      return created ?? null;
    });
  }

  /** Whether there is any user at all. */
  async any(): Promise<boolean> {
    const rows = await this.db.select({ id: users.id }).from(users).limit(1);
    return rows.length > 0;
  }

  /** Inserts a user; null when the email (in any case) is taken. */
  async insert(row: NewUserRow): Promise<UserRow | null> {
    const [created] = await this.db.insert(users).values(row).onConflictDoNothing().returning();
    return created ?? null;
  }

  async findByEmail(email: string): Promise<UserRow | null> {
    const rows = await this.db
      .select()
      .from(users)
      .where(eq(sql`lower(${users.email})`, email.toLowerCase()))
      .limit(1);
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<UserRow | null> {
    const rows = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return rows[0] ?? null;
  }

  /** Every user, oldest first (one organisation's accounts: a short list). */
  async list(): Promise<UserRow[]> {
    return this.db.select().from(users).orderBy(asc(users.createdAt), asc(users.id));
  }

  /**
   * Applies `changes`, refusing one that would demote or disable the last enabled admin.
   * The enabled admins' rows are locked first, always in id order, so two admins demoting
   * each other at once queue up and the second sees it would be the last.
   */
  async update(
    id: string,
    changes: UserChanges,
    actor: string,
    now: Date,
  ): Promise<UpdateUserResult> {
    return this.db.transaction(async (tx) => {
      const touchesAdmins = changes.role !== undefined || changes.disabled !== undefined;
      const admins = touchesAdmins
        ? await tx
            .select({ id: users.id })
            .from(users)
            .where(and(eq(users.role, 'admin'), eq(users.disabled, false)))
            .orderBy(asc(users.id))
            .for('update')
        : [];
      const [current] = await tx.select().from(users).where(eq(users.id, id)).for('update');
      if (!current) return { status: 'missing' } as const;
      const wasEnabledAdmin = current.role === 'admin' && !current.disabled;
      const staysEnabledAdmin =
        (changes.role ?? current.role) === 'admin' && !(changes.disabled ?? current.disabled);
      if (wasEnabledAdmin && !staysEnabledAdmin && !admins.some((a) => a.id !== id)) {
        return { status: 'last_admin' } as const;
      }
      const [user] = await tx
        .update(users)
        .set({ ...changes, updatedAt: now, updatedBy: actor })
        .where(eq(users.id, id))
        .returning();
      if (!user) return { status: 'missing' } as const;
      return { status: 'done', user } as const;
    });
  }
}
