import { silentLogger } from '@aex/shared/ports/log';
import type { Database } from '../db/database.ts';
import {
  createPgliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../db/testing.ts';
import { createIdentity, type Identity, type IdentityOptions } from './mod.ts';

/** A clock tests move by hand. */
export interface TestClock {
  now: () => Date;
  advance(ms: number): void;
}

export function testClock(start = new Date()): TestClock {
  let at = start.getTime();
  return {
    now: () => new Date(at),
    advance(ms) {
      at += ms;
    },
  };
}

/** The identity provider on a real, fresh database, on a clock the test moves. */
export interface IdentityUnderTest {
  identity: Identity;
  database: Database;
  clock: TestClock;
  /** What the start printed (a generated first-admin password). */
  announced: string[];
  /** Starts the identity provider again on the same database, as a restart or a replica would. */
  restart(options?: Partial<IdentityOptions>): Promise<IdentityUnderTest>;
  stop(): Promise<void>;
}

export const TEST_ISSUER = 'https://aex.test';

/** Opens a fresh database (PGlite in memory, or a new Postgres database) and the identity on it. */
export async function startIdentity(
  kind: 'embedded' | 'servers',
  options: Partial<IdentityOptions> = {},
): Promise<IdentityUnderTest> {
  const testDb =
    kind === 'servers' ? await createPostgresTestDatabase() : await createPgliteTestDatabase();
  return open(testDb, testClock(), options);
}

async function open(
  testDb: TestDatabase,
  clock: TestClock,
  options: Partial<IdentityOptions>,
): Promise<IdentityUnderTest> {
  const announced: string[] = [];
  const identity = await createIdentity({
    db: testDb.database.db,
    issuer: TEST_ISSUER,
    audience: 'aex',
    log: silentLogger(),
    announce: (text) => announced.push(text),
    now: clock.now,
    ...options,
  });
  return {
    identity,
    database: testDb.database,
    clock,
    announced,
    restart: async (more = {}) => {
      await identity.close();
      return open(testDb, clock, { ...options, ...more });
    },
    async stop() {
      await identity.close();
      await testDb.drop();
    },
  };
}
