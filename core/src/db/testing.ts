import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '@aex/shared/ports/log';
import { randomToken, TEST_DATABASE_URL } from '@aex/shared/testing/servers';
import postgres from 'postgres';
import { type Database, MIGRATIONS_DIR, openDatabase } from './database.ts';

/** A fresh, migrated database for one test file, and how to drop it. */
export interface TestDatabase {
  database: Database;
  url?: string;
  drop(): Promise<void>;
}

function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

let template: Promise<string> | undefined;

/**
 * Migrates once into a template database named after the migrations' hash, so later test
 * files clone it with `CREATE DATABASE … TEMPLATE …` in milliseconds (Immich's "medium"
 * tests do the same).
 */
async function ensureTemplate(admin: postgres.Sql): Promise<string> {
  const name = `aex_tpl_${migrationsHash()}`;
  const exists = await admin`select 1 from pg_database where datname = ${name}`;
  if (exists.length > 0) return name;
  const building = `${name}_${randomToken(6)}`;
  await admin.unsafe(`create database "${building}"`);
  const url = withDatabase(TEST_DATABASE_URL, building);
  const db = await openDatabase({ url, dataDir: ':memory:', log: silentLogger() });
  await db.close();
  try {
    await admin.unsafe(`alter database "${building}" rename to "${name}"`);
  } catch {
    // Another test process built it first.
    await admin.unsafe(`drop database if exists "${building}"`);
  }
  return name;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A migrated database on the real Postgres at TEST_DATABASE_URL, cloned from a template. */
export async function createPostgresTestDatabase(): Promise<TestDatabase> {
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    template ??= ensureTemplate(admin);
    const tpl = await template;
    const name = `aex_test_${randomToken(10)}`;
    await admin.unsafe(`create database "${name}" template "${tpl}"`);
    const url = withDatabase(TEST_DATABASE_URL, name);
    const database = await openDatabase({ url, dataDir: ':memory:', log: silentLogger() });
    return {
      database,
      url,
      async drop() {
        await database.close();
        const a = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
        await a.unsafe(`drop database if exists "${name}" with (force)`);
        await a.end();
      },
    };
  } finally {
    await admin.end();
  }
}

/** A migrated in-memory PGlite database. */
export async function createPgliteTestDatabase(): Promise<TestDatabase> {
  const database = await openDatabase({ dataDir: ':memory:', log: silentLogger() });
  return { database, drop: () => database.close() };
}
