import type { ModelRef } from '@aex/shared';
import { sql } from 'drizzle-orm';
import { collectionName } from '../vector/vector-index.ts';
import type { Db } from './database.ts';

/**
 * Reads a stored vector back from the pgvector adapter's table, for reverse image search (an
 * image's own embedding is the query). The vector index port has no `get(ids)` yet, so this
 * reads the adapter's table `vec_<collectionName(model)>` directly; it is the one place that
 * knows that layout, and goes away when the port gains `get`.
 */
export class StoredVectorRepository {
  constructor(private readonly db: Db) {}

  async read(model: ModelRef, id: string): Promise<Float32Array | null> {
    // collectionName is [a-z0-9_] only: safe as an identifier.
    const table = sql.identifier(`vec_${collectionName(model)}`);
    let result: unknown;
    try {
      result = await this.db.execute(
        sql`select embedding::text as v from ${table} where id = ${id}::uuid`,
      );
    } catch (err) {
      if (sqlState(err) === '42P01') return null; // no collection yet
      throw err;
    }
    // PGlite answers `{ rows }`, postgres.js an array.
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{
      v: string;
    }>;
    const text = rows[0]?.v;
    if (!text) return null;
    return Float32Array.from(text.slice(1, -1).split(','), Number);
  }
}

/** The SQLSTATE of a driver error, looking through drizzle's wrapping error. */
function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as never) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}
