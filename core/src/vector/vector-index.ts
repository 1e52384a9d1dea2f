import { createHash } from 'node:crypto';

/**
 * The vector index port (DESIGN.md, "Ports"): upsert / delete / search(k, filter) / count,
 * one collection per model version. Results are keyed by model id + version, so a model
 * change indexes into a new collection side by side and search swaps when it is full
 * (Immich #10496: a model change there forces a full re-index with search down).
 */

/** How vectors are compared; fixed per collection, because the ANN index is built for one. */
export type VectorMetric = 'cosine' | 'l2' | 'ip';

export const VECTOR_METRICS: readonly VectorMetric[] = ['cosine', 'l2', 'ip'];

/** A model version: the unit a collection belongs to. */
export interface ModelRef {
  id: string;
  version: string;
}

export interface CollectionSpec {
  model: ModelRef;
  dimension: number;
  metric: VectorMetric;
}

export type VectorVisibility = 'public' | 'internal';

export interface VectorItem {
  /** The image's uuid. */
  id: string;
  vector: Float32Array | number[];
  /**
   * Omitted: `internal` for a new item, unchanged for an existing one, so re-embedding an
   * image never changes who may find it.
   */
  visibility?: VectorVisibility;
}

export interface VectorFilter {
  visibility?: VectorVisibility;
  /** Restrict to these ids (an empty list matches nothing). */
  ids?: string[];
}

export interface VectorHit {
  id: string;
  /** Higher is better: cosine similarity for cosine, −distance for l2, the dot product for ip. */
  score: number;
  /** Lower is better: 1 − cosine similarity, the Euclidean distance, or −dot for ip. */
  distance: number;
}

export interface SearchOptions {
  /** How many hits at most, 1..1000. */
  k: number;
  filter?: VectorFilter;
}

/** The vectors of one model version. */
export interface VectorCollection {
  readonly name: string;
  readonly spec: CollectionSpec;
  /** Inserts or replaces by id; idempotent. A repeated id in one call: the last one wins. */
  upsert(items: VectorItem[]): Promise<void>;
  /** Deletes by id; ids that are not there are ignored. */
  delete(ids: string[]): Promise<void>;
  /** The `k` nearest items that pass `filter`, best first. */
  search(query: Float32Array | number[], options: SearchOptions): Promise<VectorHit[]>;
  count(filter?: VectorFilter): Promise<number>;
  /**
   * The stored vectors of those `ids` that have one, in the order asked (reverse image
   * search: an image's own embedding is the query). Ids that are not there are left out.
   */
  get(ids: string[]): Promise<Array<{ id: string; vector: Float32Array }>>;
}

export interface VectorIndex {
  readonly kind: 'pgvector' | 'milvus';
  /**
   * The collection of `spec.model`, created when missing. The same spec gives the same
   * collection; another dimension or metric for a model version that has one throws
   * `VectorIndexError` (a model version's vectors never change shape).
   */
  collection(spec: CollectionSpec): Promise<VectorCollection>;
  listCollections(): Promise<Array<{ name: string; spec: CollectionSpec; count: number }>>;
  /** Drops the model version's collection and its vectors; a missing one is fine. */
  dropCollection(model: ModelRef): Promise<void>;
}

/** Invalid input (shape, values, ids, k) or a conflicting / missing collection. */
export class VectorIndexError extends Error {
  override name = 'VectorIndexError';
}

/** The most hits one search returns (also pgvector's largest `hnsw.ef_search`). */
export const MAX_K = 1000;

// Leaves room for an adapter's prefix and suffix (`vec_<name>_hnsw`) within Postgres's
// 63-byte identifiers.
const SLUG_MAX = 39;

/**
 * A deterministic, safe identifier for a model version: `[a-z0-9_]`, at most 48 characters,
 * a readable slug plus 8 hex of sha256 over the exact id and version, so ids that sanitise
 * alike (`clip/b` and `clip-b`) still get different names.
 */
export function collectionName(model: ModelRef): string {
  assertModel(model);
  const slug = `${model.id}_${model.version}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, SLUG_MAX)
    .replace(/^_+|_+$/g, '');
  const hash = createHash('sha256')
    .update(JSON.stringify([model.id, model.version]))
    .digest('hex')
    .slice(0, 8);
  return `${slug || 'model'}_${hash}`;
}

/** Throws `VectorIndexError` unless the model id and version are non-empty strings. */
export function assertModel(model: ModelRef): void {
  for (const [key, value] of [
    ['id', model?.id],
    ['version', model?.version],
  ] as const) {
    if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
      throw new VectorIndexError(`model ${key} must be a string of 1..200 characters`);
    }
  }
}

/** Throws `VectorIndexError` unless `spec` is complete and `dimension` is 1..`maxDimension`. */
export function assertCollectionSpec(spec: CollectionSpec, maxDimension: number): void {
  assertModel(spec.model);
  if (!Number.isInteger(spec.dimension) || spec.dimension < 1 || spec.dimension > maxDimension) {
    throw new VectorIndexError(`dimension must be an integer in 1..${maxDimension}`);
  }
  if (!VECTOR_METRICS.includes(spec.metric)) {
    throw new VectorIndexError(`metric must be one of ${VECTOR_METRICS.join(', ')}`);
  }
}

/**
 * Throws `VectorIndexError` unless `vector` has the collection's dimension and only finite
 * float32 values; a zero vector has no direction, so cosine rejects it.
 */
export function assertVector(vector: Float32Array | number[], spec: CollectionSpec): void {
  if (!(vector instanceof Float32Array) && !Array.isArray(vector)) {
    throw new VectorIndexError('a vector must be a Float32Array or an array of numbers');
  }
  if (vector.length !== spec.dimension) {
    throw new VectorIndexError(`vector has ${vector.length} values, expected ${spec.dimension}`);
  }
  let norm = 0;
  for (const value of vector) {
    // Math.fround: what is stored is float32; 1e39 is finite as a double but not there.
    if (typeof value !== 'number' || !Number.isFinite(Math.fround(value))) {
      throw new VectorIndexError(`vector values must be finite float32 numbers, got ${value}`);
    }
    norm += value * value;
  }
  if (spec.metric === 'cosine' && norm === 0) {
    throw new VectorIndexError('a zero vector has no cosine similarity');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The ids in lowercase (as Postgres returns uuids); throws `VectorIndexError` on a non-uuid. */
export function normalizeIds(ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) throw new VectorIndexError('ids must be an array');
  return ids.map((id) => {
    if (typeof id !== 'string' || !UUID.test(id)) {
      throw new VectorIndexError(`id must be a uuid, got ${JSON.stringify(id)}`);
    }
    return id.toLowerCase();
  });
}

/** Throws `VectorIndexError` unless `k` is an integer in 1..`MAX_K`. */
export function assertK(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
    throw new VectorIndexError(`k must be an integer in 1..${MAX_K}, got ${k}`);
  }
}

/** The filter with its ids normalised; throws `VectorIndexError` on an invalid one. */
export function normalizeFilter(filter: VectorFilter | undefined): VectorFilter {
  if (filter === undefined) return {};
  const { visibility, ids } = filter;
  if (visibility !== undefined && visibility !== 'public' && visibility !== 'internal') {
    throw new VectorIndexError(`visibility must be public or internal, got ${visibility}`);
  }
  return {
    ...(visibility ? { visibility } : {}),
    ...(ids ? { ids: normalizeIds(ids) } : {}),
  };
}

/**
 * Validates items against the collection and keeps the last of each repeated id, since
 * one upsert may not touch a row twice (`ON CONFLICT DO UPDATE` refuses it).
 */
export function normalizeItems(items: readonly VectorItem[], spec: CollectionSpec): VectorItem[] {
  if (!Array.isArray(items)) throw new VectorIndexError('items must be an array');
  const byId = new Map<string, VectorItem>();
  for (const item of items) {
    const [id] = normalizeIds([item.id]) as [string];
    assertVector(item.vector, spec);
    if (item.visibility !== undefined) normalizeFilter({ visibility: item.visibility });
    byId.set(id, { ...item, id });
  }
  return [...byId.values()];
}
