import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** The built-in issuer's tables (issue 5): local users, signing keys, sessions, API keys. */

/**
 * Local users of the built-in issuer. `email` keeps the case it was given; uniqueness and
 * lookups go by `lower(email)`, so `Ann@x.org` and `ann@x.org` are one account.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    role: text('role', { enum: ['reader', 'editor', 'admin'] }).notNull(),
    /** PHC string of an argon2id hash (`$argon2id$v=19$m=…`). */
    passwordHash: text('password_hash').notNull(),
    disabled: boolean('disabled').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** The principal subject that created the user; `system` for the first admin. */
    createdBy: text('created_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [
    uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`),
    check('users_role_values', sql`${t.role} in ('reader', 'editor', 'admin')`),
  ],
);
export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;

/**
 * ES256 keys the built-in issuer signs access tokens with. The key with the latest
 * `activates_at` that has come signs. A new key is published (in the JWKS) before it
 * activates, and the key it replaces stays published until every token it signed expired.
 */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  /** The private JWK (`d` included): whoever reads this table can mint tokens. */
  privateJwk: jsonb('private_jwk').$type<Record<string, unknown>>().notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** When it starts signing. */
  activatesAt: timestamp('activates_at', { withTimezone: true }).notNull().defaultNow(),
  /** When it stopped signing (its successor's activation); null while no successor is set. */
  retiredAt: timestamp('retired_at', { withTimezone: true }),
});
export type SigningKeyRow = typeof signingKeys.$inferSelect;

/**
 * Refresh tokens, stored as the sha256 of the opaque token. Each use rotates the token
 * (`rotated_at` set, a new one issued in the same family); presenting a rotated one again
 * means it was stolen, so the whole family is revoked.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey(),
    familyId: uuid('family_id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
    index('refresh_tokens_expires_idx').on(t.expiresAt),
  ],
);
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

/** API keys (`aex_<id>_<secret>`): the sha256 of the secret is kept, never the secret. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role', { enum: ['reader', 'editor', 'admin'] }).notNull(),
    secretHash: text('secret_hash').notNull(),
    /** The principal subject that created the key (a user id, or `apikey:<id>`). */
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [check('api_keys_role_values', sql`${t.role} in ('reader', 'editor', 'admin')`)],
);
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * Failed logins per key (`email:<address>` or `ip:<address>`): what slows down password
 * guessing. In the metadata store so every core replica sees the same counts.
 */
export const loginAttempts = pgTable(
  'login_attempts',
  {
    key: text('key').primaryKey(),
    failures: integer('failures').notNull(),
    lastFailureAt: timestamp('last_failure_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('login_attempts_last_failure_idx').on(t.lastFailureAt)],
);
export type LoginAttemptRow = typeof loginAttempts.$inferSelect;
