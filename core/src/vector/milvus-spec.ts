import {
  type CreateCollectionWithFieldsReq,
  type CreateIndexSimpleReq,
  DataType,
} from '@zilliz/milvus2-sdk-node';
import {
  assertCollectionSpec,
  type CollectionSpec,
  type VectorHit,
  type VectorMetric,
} from './vector-index.ts';

/**
 * How a model version's collection looks in Milvus: its schema, its HNSW index, the spec it
 * was made for (kept in the collection's description, so the registry lives with the data and
 * cannot drift from it), and how Milvus's raw scores become the port's score and distance.
 */

/** Milvus's default `proxy.maxDimension`. */
export const MILVUS_MAX_DIMENSION = 32_768;

export const FIELD = { id: 'id', embedding: 'embedding', visibility: 'visibility' } as const;
export const INDEX_NAME = 'embedding_hnsw';

// A marker and a version before the JSON: a collection someone else made under our prefix
// is told apart from ours, and a later layout can still read this one.
const SPEC_MARKER = 'aex.vector-collection/1 ';

export type MilvusConsistency = 'Strong' | 'Session' | 'Bounded' | 'Eventually';
export const MILVUS_CONSISTENCY: readonly MilvusConsistency[] = [
  'Strong',
  'Session',
  'Bounded',
  'Eventually',
];

/** Per metric: Milvus's metric type, and raw Milvus score → the port's `VectorHit` numbers. */
export const METRICS: Record<
  VectorMetric,
  { milvus: 'COSINE' | 'L2' | 'IP'; hit(raw: number): Pick<VectorHit, 'score' | 'distance'> }
> = {
  // COSINE answers the cosine similarity itself; pgvector's `<=>` distance is 1 − it.
  cosine: { milvus: 'COSINE', hit: (raw) => ({ score: raw, distance: 1 - raw }) },
  // L2 answers the SQUARED Euclidean distance (Milvus skips the square root, since it keeps
  // the order); the port, like pgvector's `<->`, means the distance itself. A float32 sum can
  // dip just below 0 for identical vectors, hence the clamp; `0 - d` avoids a −0 score.
  l2: {
    milvus: 'L2',
    hit: (raw) => {
      const distance = Math.sqrt(Math.max(0, raw));
      return { score: 0 - distance, distance };
    },
  },
  // IP answers the dot product; pgvector's `<#>` is its negative, which the port calls distance.
  ip: { milvus: 'IP', hit: (raw) => ({ score: raw, distance: -raw }) },
};

/** The collection description that records `spec`; read back by `parseSpecDescription`. */
export function specDescription(spec: CollectionSpec): string {
  const { model, dimension, metric } = spec;
  return `${SPEC_MARKER}${JSON.stringify({ model: { id: model.id, version: model.version }, dimension, metric })}`;
}

/** The spec a collection was created for, or `undefined` when its description is not ours. */
export function parseSpecDescription(description: string | undefined): CollectionSpec | undefined {
  if (typeof description !== 'string' || !description.startsWith(SPEC_MARKER)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(description.slice(SPEC_MARKER.length));
  } catch {
    return undefined;
  }
  const v = value as Partial<CollectionSpec> | null;
  const spec = {
    model: { id: v?.model?.id as string, version: v?.model?.version as string },
    dimension: v?.dimension as number,
    metric: v?.metric as VectorMetric,
  };
  try {
    // The same checks as a caller's spec: a hand-edited description must not pass for one.
    assertCollectionSpec(spec, MILVUS_MAX_DIMENSION);
  } catch {
    return undefined;
  }
  return spec;
}

/** The createCollection request: uuid primary key, the vector, the visibility, nothing dynamic. */
export function collectionRequest(
  name: string,
  spec: CollectionSpec,
  consistency: MilvusConsistency,
): CreateCollectionWithFieldsReq {
  return {
    collection_name: name,
    description: specDescription(spec),
    consistency_level: consistency,
    enable_dynamic_field: false,
    fields: [
      {
        name: FIELD.id,
        data_type: DataType.VarChar,
        is_primary_key: true,
        autoID: false,
        max_length: 36,
      },
      { name: FIELD.embedding, data_type: DataType.FloatVector, dim: spec.dimension },
      // 16: room for a longer visibility than `internal` without a schema change.
      { name: FIELD.visibility, data_type: DataType.VarChar, max_length: 16 },
    ],
  };
}

/** The HNSW index on the vector, built for the spec's metric (M 16, efConstruction 200). */
export function indexRequest(name: string, spec: CollectionSpec): CreateIndexSimpleReq {
  return {
    collection_name: name,
    field_name: FIELD.embedding,
    index_name: INDEX_NAME,
    index_type: 'HNSW',
    metric_type: METRICS[spec.metric].milvus,
    params: { M: 16, efConstruction: 200 },
  };
}

// HNSW refuses an `ef` below k; 64 keeps small-k searches from walking too short a list.
const MIN_EF = 64;

/** Search parameters for `k` hits: HNSW's `ef` is the candidate list, so at least k. */
export function searchParams(k: number): { ef: number } {
  return { ef: Math.max(k, MIN_EF) };
}
