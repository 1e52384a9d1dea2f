import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@aex/shared/ports/log';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

/** The drizzle database both drivers give: services' repositories are written against it. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /** Whether `CREATE EXTENSION vector` works here (always in PGlite; only where installed on Postgres). */
  hasPgvector(): Promise<boolean>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = join(import.meta.dir, 'migrations');

// Any fixed 64-bit number: replicas of core starting together run migrations one at a time.
const MIGRATION_LOCK = 0x4145_5800;

/**
 * Opens the metadata store: Postgres when `url` is given, else PGlite (Postgres in WASM,
 * with pgvector) in `<dataDir>/pg`, or in memory when `dataDir` is `:memory:`.
 * Applies pending migrations before returning.
 */
export async function openDatabase(options: {
  url?: string;
  dataDir: string;
  log: Logger;
}): Promise<Database> {
  return options.url
    ? openPostgres(options.url, options.log)
    : openPglite(options.dataDir, options.log);
}

async function openPglite(dataDir: string, log: Logger): Promise<Database> {
  let dir: string | undefined;
  if (dataDir !== ':memory:') {
    dir = join(dataDir, 'pg');
    await mkdir(dir, { recursive: true });
  }
  const client = await PGlite.create(dir, { extensions: { vector } });
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  await migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR });
  log.info({ store: 'pglite', dir: dir ?? ':memory:' }, 'metadata store ready');
  return {
    kind: 'pglite',
    db,
    hasPgvector: async () => true,
    close: () => client.close(),
  };
}

async function openPostgres(url: string, log: Logger): Promise<Database> {
  const client = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select 1`;
  } catch (err) {
    await client.end({ timeout: 1 });
    throw new Error(
      `Postgres at ${redact(url)} is not reachable (${(err as Error).message}). ` +
        'Check DATABASE_URL, or unset it to use the embedded PGlite store.',
      { cause: err },
    );
  }
  const db = drizzlePostgres({ client, schema }) as unknown as Db;
  // A session-level advisory lock on a connection of its own, held while the migrator
  // (which runs its own transaction) applies what is pending.
  const lock = await client.reserve();
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(db as never, { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    lock.release();
  }
  log.info({ store: 'postgres', url: redact(url) }, 'metadata store ready');
  return {
    kind: 'postgres',
    db,
    async hasPgvector() {
      const rows = await db.execute<{ n: number }>(
        sql`select count(*)::int as n from pg_available_extensions where name = 'vector'`,
      );
      return (rows as unknown as Array<{ n: number }>)[0]?.n === 1;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** A database URL without its password, for logs and errors. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
