import { LoadState } from '@zilliz/milvus2-sdk-node';
import { filterExpression, idsExpression } from './milvus-expr.ts';
import type { MilvusSession } from './milvus-session.ts';
import { FIELD, indexRequest, METRICS, searchParams } from './milvus-spec.ts';
import {
  assertK,
  assertVector,
  type CollectionSpec,
  normalizeIds,
  normalizeItems,
  type VectorCollection,
  VectorIndexError,
  type VectorVisibility,
} from './vector-index.ts';

// Rows per upsert and ids per expression: Milvus takes more, but a message of 1,000 2,048-d
// vectors (8 MB) stays well inside gRPC's and Milvus's 64 MB default.
const BATCH = 1000;
// Milvus's code for "index not found" (merr ErrIndexNotFound); older servers say IndexNotExist.
const INDEX_NOT_FOUND = 700;

/** Builds the HNSW index unless there is one, then loads the collection (search needs it). */
export async function prepareMilvusCollection(
  session: MilvusSession,
  name: string,
  spec: CollectionSpec,
): Promise<void> {
  const { client, call } = session;
  const described = await call(
    `index ${name}`,
    async () => {
      const res = await client.describeIndex({
        collection_name: name,
        field_name: FIELD.embedding,
      });
      const { error_code, code } = res.status;
      return error_code === 'IndexNotExist' || code === INDEX_NOT_FOUND ? undefined : res;
    },
    name,
  );
  if (!described) {
    await call(`index ${name}`, () => client.createIndex(indexRequest(name, spec)), name);
  } else {
    const params = described.index_descriptions[0]?.params ?? [];
    const metric = params.find((p) => p.key === 'metric_type')?.value;
    // The description says which metric was asked for; the index decides what search does.
    if (metric !== undefined && metric !== METRICS[spec.metric].milvus) {
      throw new VectorIndexError(`collection ${name} is indexed for ${metric}, not ${spec.metric}`);
    }
  }
  const load = await call(`load ${name}`, () => client.getLoadState({ collection_name: name }));
  if (load.state !== LoadState.LoadStateLoaded) {
    await call(`load ${name}`, () => client.loadCollection({ collection_name: name }), name);
  }
}

/** `count(*)` of the rows that pass a Milvus filter (`''`: all of them). */
export async function countMilvusRows(
  session: MilvusSession,
  name: string,
  filter: string,
): Promise<number> {
  const { client, call, level } = session;
  const res = await call(
    `count in ${name}`,
    () =>
      client.query({
        collection_name: name,
        filter,
        output_fields: ['count(*)'],
        consistency_level: level,
      }),
    name,
  );
  return Number(res.data[0]?.['count(*)'] ?? 0);
}

/** The port's collection; its own name kept for the adapter's callers. */
export type MilvusVectorCollection = VectorCollection;

/** The port's collection over a prepared Milvus collection. */
export function milvusCollection(
  session: MilvusSession,
  name: string,
  spec: CollectionSpec,
): MilvusVectorCollection {
  const { client, call } = session;
  const { milvus: metricType, hit } = METRICS[spec.metric];

  /** The stored visibility of each id that has a row, read strongly: it may be just written. */
  async function visibilities(ids: string[]): Promise<Map<string, VectorVisibility>> {
    const found = new Map<string, VectorVisibility>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const res = await call(
        `upsert into ${name}`,
        () =>
          client.query({
            collection_name: name,
            filter: idsExpression(batch),
            output_fields: [FIELD.id, FIELD.visibility],
            limit: batch.length,
            consistency_level: session.strong,
          }),
        name,
      );
      for (const row of res.data) found.set(String(row[FIELD.id]), row[FIELD.visibility]);
    }
    return found;
  }

  return {
    name,
    spec,

    async upsert(items) {
      const valid = normalizeItems(items, spec);
      if (valid.length === 0) return;
      // Milvus's upsert replaces the whole row, so an item without a visibility takes the
      // stored one (or `internal`) here. Read, then write: a visibility change by another
      // writer in between is lost, which pgvector's single statement does not risk.
      const keep = await visibilities(valid.filter((i) => !i.visibility).map((i) => i.id));
      const rows = valid.map((item) => ({
        [FIELD.id]: item.id,
        [FIELD.embedding]: Array.from(item.vector),
        [FIELD.visibility]: item.visibility ?? keep.get(item.id) ?? 'internal',
      }));
      for (let i = 0; i < rows.length; i += BATCH) {
        const data = rows.slice(i, i + BATCH);
        await call(
          `upsert into ${name}`,
          () => client.upsert({ collection_name: name, data }),
          name,
        );
      }
    },

    async delete(ids) {
      const valid = normalizeIds(ids);
      for (let i = 0; i < valid.length; i += BATCH) {
        const filter = idsExpression(valid.slice(i, i + BATCH));
        await call(
          `delete from ${name}`,
          () => client.delete({ collection_name: name, filter }),
          name,
        );
      }
    },

    async search(vector, options) {
      assertVector(vector, spec);
      assertK(options?.k);
      const filter = filterExpression(options.filter);
      if (filter === null) return [];
      const res = await call(
        `search in ${name}`,
        () =>
          client.search({
            collection_name: name,
            anns_field: FIELD.embedding,
            data: Array.from(vector),
            limit: options.k,
            filter,
            // The SDK 3 reads each hit's id from the returned fields, not from `ids`.
            output_fields: [FIELD.id],
            // Named, though the index fixes it: a mismatch fails instead of scoring otherwise.
            metric_type: metricType,
            params: searchParams(options.k),
            consistency_level: session.level,
          }),
        name,
      );
      return res.results.map((r) => ({ id: String(r.id), ...hit(Number(r.score)) }));
    },

    async count(filter) {
      const expr = filterExpression(filter);
      return expr === null ? 0 : countMilvusRows(session, name, expr);
    },

    async get(ids) {
      const valid = normalizeIds(ids);
      const found = new Map<string, Float32Array>();
      for (let i = 0; i < valid.length; i += BATCH) {
        const batch = valid.slice(i, i + BATCH);
        const res = await call(
          `get from ${name}`,
          () =>
            client.query({
              collection_name: name,
              filter: idsExpression(batch),
              output_fields: [FIELD.id, FIELD.embedding],
              limit: batch.length,
              consistency_level: session.level,
            }),
          name,
        );
        for (const row of res.data) {
          found.set(String(row[FIELD.id]), Float32Array.from(row[FIELD.embedding] as number[]));
        }
      }
      return valid.flatMap((id) => {
        const vector = found.get(id);
        return vector ? [{ id, vector }] : [];
      });
    },
  };
}
