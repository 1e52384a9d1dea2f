import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import {
  assertCollectionSpec,
  assertK,
  assertModel,
  assertVector,
  type CollectionSpec,
  collectionName,
  type ModelRef,
  normalizeFilter,
  normalizeIds,
  normalizeItems,
  type VectorCollection,
  type VectorFilter,
  type VectorHit,
  type VectorIndex,
  VectorIndexError,
  type VectorItem,
  type VectorMetric,
} from './vector-index.ts';

// pgvector's HNSW indexes `vector` columns of at most 2,000 dimensions.
const MAX_DIMENSION = 2000;
// Rows per INSERT: 3 bound parameters each, far below Postgres's 65,535.
const BATCH = 500;
// Any fixed 64-bit number: serialises collection DDL across core replicas ("AEXV").
const DDL_LOCK = 0x4145_5856;
// pgvector's default `hnsw.ef_search`; raised to k for larger k, or HNSW returns < k rows.
const EF_SEARCH = 40;

/** Per metric: the distance operator, HNSW operator class, and distance → score. */
const METRICS: Record<VectorMetric, { op: string; ops: string; score(d: number): number }> = {
  cosine: { op: '<=>', ops: 'vector_cosine_ops', score: (d) => 1 - d },
  l2: { op: '<->', ops: 'vector_l2_ops', score: (d) => -d },
  // `<#>` is the NEGATIVE inner product (so that ascending order is best first).
  ip: { op: '<#>', ops: 'vector_ip_ops', score: (d) => -d },
};

type Executor = Pick<Db, 'execute'>;

/** Rows of a raw query: PGlite answers `{ rows }`, postgres.js an array. */
async function query<T>(db: Executor, statement: SQL): Promise<T[]> {
  const result = (await db.execute(statement)) as unknown as { rows: T[] } | T[];
  return Array.isArray(result) ? result : result.rows;
}

/** The SQLSTATE of a driver error, looking through drizzle's `DrizzleQueryError`. */
function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as never) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/** pgvector's text form `[1,2,3]`, sent as one bound parameter and cast to `vector`. */
function vectorLiteral(vector: Float32Array | number[]): string {
  return `[${Array.from(vector, String).join(',')}]`;
}

/** A uuid[] literal `{a,b}`: one parameter however many ids (all validated uuids). */
function uuidArray(ids: string[]): string {
  return `{${ids.join(',')}}`;
}

function where(filter: VectorFilter): SQL {
  const parts = [sql`true`];
  if (filter.visibility) parts.push(sql`visibility = ${filter.visibility}`);
  if (filter.ids) parts.push(sql`id = any(${uuidArray(filter.ids)}::uuid[])`);
  return sql.join(parts, sql` and `);
}

interface RegistryRow {
  name: string;
  model_id: string;
  model_version: string;
  dimension: number;
  metric: VectorMetric;
}

const table = (name: string) => sql.identifier(`vec_${name}`);

/**
 * The vector index on pgvector, in PGlite (embedded) or a Postgres that has the extension.
 * Creates the extension and its registry table when missing; throws `VectorIndexError`
 * when pgvector is not installed.
 */
export async function createPgvectorIndex(db: Db): Promise<VectorIndex> {
  let version: string;
  try {
    version = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${DDL_LOCK})`);
      await tx.execute(sql`create extension if not exists vector`);
      // Collections come and go with models at run time (one table per model version), so
      // neither they nor their registry are part of the drizzle migrations, which describe
      // a fixed schema; the adapter owns this DDL and makes it idempotent.
      await tx.execute(sql`create table if not exists vector_collections (
        name text primary key,
        model_id text not null,
        model_version text not null,
        dimension integer not null,
        metric text not null check (metric in ('cosine', 'l2', 'ip')),
        created_at timestamptz not null default now(),
        unique (model_id, model_version))`);
      const [row] = await query<{ v: string }>(
        tx,
        sql`select extversion as v from pg_extension where extname = 'vector'`,
      );
      return row?.v ?? '0';
    });
  } catch (err) {
    throw new VectorIndexError(`pgvector is not available here: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Iterative index scans (pgvector 0.8) keep scanning the HNSW graph until the filter has
  // let k rows through; without them a selective filter can return fewer than k hits.
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const iterative = major > 0 || minor >= 8;

  function toSpec(row: RegistryRow): CollectionSpec {
    return {
      model: { id: row.model_id, version: row.model_version },
      dimension: row.dimension,
      metric: row.metric,
    };
  }

  return {
    kind: 'pgvector',

    async collection(spec) {
      assertCollectionSpec(spec, MAX_DIMENSION);
      const name = collectionName(spec.model);
      const { ops } = METRICS[spec.metric];
      await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${DDL_LOCK})`);
        await tx.execute(sql`insert into vector_collections
          (name, model_id, model_version, dimension, metric)
          values (${name}, ${spec.model.id}, ${spec.model.version}, ${spec.dimension}, ${spec.metric})
          on conflict do nothing`);
        const [row] = await query<RegistryRow>(
          tx,
          sql`select * from vector_collections
            where model_id = ${spec.model.id} and model_version = ${spec.model.version}`,
        );
        if (!row) {
          throw new VectorIndexError(`collection name ${name} is taken by another model`);
        }
        if (row.dimension !== spec.dimension || row.metric !== spec.metric) {
          throw new VectorIndexError(
            `model ${spec.model.id}@${spec.model.version} has a collection of ` +
              `${row.dimension}-d ${row.metric} vectors, not ${spec.dimension}-d ${spec.metric}`,
          );
        }
        // Identifiers cannot be bound; `name` is collectionName's [a-z0-9_] and the rest are
        // constants of this file.
        await tx.execute(sql`create table if not exists ${table(name)} (
          id uuid primary key,
          embedding vector(${sql.raw(String(spec.dimension))}) not null,
          visibility text not null default 'internal' check (visibility in ('public', 'internal')),
          updated_at timestamptz not null default now())`);
        await tx.execute(sql`create index if not exists ${sql.identifier(`vec_${name}_hnsw`)}
          on ${table(name)} using hnsw (embedding ${sql.raw(ops)})`);
      });
      return pgvectorCollection(db, name, spec, iterative);
    },

    async listCollections() {
      const rows = await query<RegistryRow>(
        db,
        sql`select * from vector_collections order by model_id, model_version`,
      );
      return Promise.all(
        rows.map(async (row) => {
          const [c] = await query<{ n: number }>(
            db,
            sql`select count(*)::int as n from ${table(row.name)}`,
          );
          return { name: row.name, spec: toSpec(row), count: c?.n ?? 0 };
        }),
      );
    },

    async dropCollection(model: ModelRef) {
      assertModel(model);
      await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${DDL_LOCK})`);
        const rows = await query<{ name: string }>(
          tx,
          sql`delete from vector_collections
            where model_id = ${model.id} and model_version = ${model.version} returning name`,
        );
        for (const { name } of rows) await tx.execute(sql`drop table if exists ${table(name)}`);
      });
    },
  };
}

function pgvectorCollection(
  db: Db,
  name: string,
  spec: CollectionSpec,
  iterative: boolean,
): VectorCollection {
  const t = table(name);
  const { op, score } = METRICS[spec.metric];
  const distance = (q: string) => sql`(embedding ${sql.raw(op)} ${q}::vector)`;

  /** Runs `fn`, turning "relation does not exist" into the error a caller can act on. */
  async function guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (sqlState(err) === '42P01') {
        throw new VectorIndexError(`collection ${name} does not exist (dropped?)`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  function insert(items: VectorItem[], withVisibility: boolean): SQL {
    const rows = items.map((item) =>
      withVisibility
        ? sql`(${item.id}::uuid, ${vectorLiteral(item.vector)}::vector, ${item.visibility}, now())`
        : sql`(${item.id}::uuid, ${vectorLiteral(item.vector)}::vector, now())`,
    );
    return withVisibility
      ? sql`insert into ${t} (id, embedding, visibility, updated_at) values ${sql.join(rows, sql`, `)}
          on conflict (id) do update set embedding = excluded.embedding,
            visibility = excluded.visibility, updated_at = excluded.updated_at`
      : sql`insert into ${t} (id, embedding, updated_at) values ${sql.join(rows, sql`, `)}
          on conflict (id) do update set embedding = excluded.embedding,
            updated_at = excluded.updated_at`;
  }

  return {
    name,
    spec,

    async upsert(items) {
      const valid = normalizeItems(items, spec);
      if (valid.length === 0) return;
      // Items without a visibility must not overwrite the stored one, hence two statements.
      const groups = [
        { items: valid.filter((i) => i.visibility !== undefined), withVisibility: true },
        { items: valid.filter((i) => i.visibility === undefined), withVisibility: false },
      ];
      await guarded(() =>
        db.transaction(async (tx) => {
          for (const group of groups) {
            for (let i = 0; i < group.items.length; i += BATCH) {
              await tx.execute(insert(group.items.slice(i, i + BATCH), group.withVisibility));
            }
          }
        }),
      );
    },

    async delete(ids) {
      const valid = normalizeIds(ids);
      if (valid.length === 0) return;
      await guarded(() =>
        db.execute(sql`delete from ${t} where id = any(${uuidArray(valid)}::uuid[])`),
      );
    },

    async search(vector, options): Promise<VectorHit[]> {
      assertVector(vector, spec);
      assertK(options?.k);
      const filter = normalizeFilter(options.filter);
      if (filter.ids?.length === 0) return [];
      const q = vectorLiteral(vector);
      const rows = await guarded(() =>
        db.transaction(async (tx) => {
          // `set_config(…, true)` is SET LOCAL with a bound value: it ends with the transaction.
          const ef = String(Math.max(options.k, EF_SEARCH));
          await tx.execute(sql`select set_config('hnsw.ef_search', ${ef}, true)`);
          if (iterative) {
            await tx.execute(sql`select set_config('hnsw.iterative_scan', 'strict_order', true)`);
          }
          return query<{ id: string; distance: number }>(
            tx,
            sql`select id::text as id, ${distance(q)}::float8 as distance from ${t}
              where ${where(filter)} order by ${distance(q)} limit ${options.k}`,
          );
        }),
      );
      return rows.map((r) => ({ id: r.id, distance: r.distance, score: score(r.distance) }));
    },

    async count(filter) {
      const valid = normalizeFilter(filter);
      if (valid.ids?.length === 0) return 0;
      const [row] = await guarded(() =>
        query<{ n: number }>(db, sql`select count(*)::int as n from ${t} where ${where(valid)}`),
      );
      return row?.n ?? 0;
    },

    async get(ids) {
      const valid = normalizeIds(ids);
      if (valid.length === 0) return [];
      const rows = await guarded(() =>
        query<{ id: string; v: string }>(
          db,
          sql`select id::text as id, embedding::text as v from ${t}
            where id = any(${uuidArray(valid)}::uuid[])`,
        ),
      );
      // pgvector's text form is `[x,y,…]`.
      const found = new Map(
        rows.map((r) => [r.id, Float32Array.from(r.v.slice(1, -1).split(','), Number)]),
      );
      return valid.flatMap((id) => {
        const vector = found.get(id);
        return vector ? [{ id, vector }] : [];
      });
    },
  };
}
