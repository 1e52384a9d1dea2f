import { describe } from 'bun:test';
import { postgresReachable, suiteName } from '@aex/shared/testing/servers';
import { sql } from 'drizzle-orm';
import {
  createPgliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../db/testing.ts';
import { vectorIndexContract } from './contract.ts';
import { createPgvectorIndex } from './pgvector.ts';

// A Postgres counts only when it is reachable AND has pgvector installed, which is known
// only by asking it: hence this check before the suites are declared.
let postgresHasPgvector = false;
if (postgresReachable) {
  const probe = await createPostgresTestDatabase();
  try {
    postgresHasPgvector = await probe.database.hasPgvector();
  } finally {
    await probe.drop();
  }
}

/**
 * The planner seq-scans small tables, where every answer is exact; with seq scans off the
 * same contract runs through the HNSW index, which is where k > ef_search and selective
 * filters lose rows. PGlite has one connection, so a session setting covers every query.
 */
async function pgliteIndexScansOnly(): Promise<TestDatabase> {
  const t = await createPgliteTestDatabase();
  await t.database.db.execute(sql`set enable_seqscan = off`);
  return t;
}

// One contract for every adapter on this machine (DESIGN.md, "Ports"): PGlite always has
// pgvector; a Postgres without it is reported as skipped, never as passing.
const adapters = [
  {
    name: 'PGlite',
    server: 'PGlite',
    available: true,
    make: createPgliteTestDatabase,
    recall: true,
  },
  {
    name: 'PGlite, index scans only',
    server: 'PGlite',
    available: true,
    make: pgliteIndexScansOnly,
    // The plain run's 2,000-row searches already use the HNSW index (EXPLAIN shows it).
    recall: false,
  },
  {
    name: 'Postgres',
    server: postgresReachable ? 'Postgres with the pgvector extension' : 'Postgres',
    available: postgresHasPgvector,
    make: createPostgresTestDatabase,
    recall: true,
  },
];

for (const adapter of adapters) {
  const title = suiteName(`pgvector on ${adapter.name}`, adapter.available, adapter.server);
  describe.skipIf(!adapter.available)(title, () => {
    vectorIndexContract(
      `pgvector on ${adapter.name}`,
      async () => {
        const t: TestDatabase = await adapter.make();
        try {
          return { index: await createPgvectorIndex(t.database.db), cleanup: () => t.drop() };
        } catch (err) {
          await t.drop();
          throw err;
        }
      },
      { recall: adapter.recall },
    );
  });
}
