import type { DescribeCollectionResponse } from '@zilliz/milvus2-sdk-node';
import {
  countMilvusRows,
  type MilvusVectorCollection,
  milvusCollection,
  prepareMilvusCollection,
} from './milvus-collection.ts';
import { classifyMilvusError, ok, toVectorIndexError } from './milvus-errors.ts';
import { openMilvusSession } from './milvus-session.ts';
import {
  collectionRequest,
  MILVUS_CONSISTENCY,
  MILVUS_MAX_DIMENSION,
  type MilvusConsistency,
  parseSpecDescription,
} from './milvus-spec.ts';
import {
  assertCollectionSpec,
  assertModel,
  type CollectionSpec,
  collectionName,
  type VectorIndex,
  VectorIndexError,
} from './vector-index.ts';

/** How to reach Milvus (DESIGN.md: the vector index of the distributed mode). */
export interface MilvusIndexOptions {
  /** `host:port` or `https://host:port` of Milvus's proxy, from `MILVUS_ADDRESS`. */
  address: string;
  /** An API key or `user:password`; or give `username` and `password`. */
  token?: string;
  username?: string;
  password?: string;
  /** The Milvus database; default the server's `default`. */
  database?: string;
  /**
   * Starts every collection name, so AEX can share a database: `[A-Za-z_][A-Za-z0-9_]*`, at
   * most 64 characters. Default `aex_`.
   */
  collectionPrefix?: string;
  /**
   * What searches and counts see. Default `Strong`: every write made before the call, as the
   * port's contract and pgvector promise (upsert, then count or search). `Bounded` trades a
   * few seconds of staleness for latency on a busy cluster.
   */
  consistency?: MilvusConsistency;
  /** Deadline of each call in milliseconds; default 15,000 (the SDK's). */
  timeoutMs?: number;
}

export type { MilvusVectorCollection } from './milvus-collection.ts';

/** The vector index on Milvus; `close()` ends its connections. */
export interface MilvusVectorIndex extends VectorIndex {
  collection(spec: CollectionSpec): Promise<MilvusVectorCollection>;
  close(): Promise<void>;
}

const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Throws when the model version's collection is not AEX's, another model's, or another shape. */
function checkSpec(found: DescribeCollectionResponse, name: string, spec: CollectionSpec): void {
  const had = parseSpecDescription(found.schema?.description);
  if (!had) throw new VectorIndexError(`Milvus collection ${name} was not made by AEX`);
  if (had.model.id !== spec.model.id || had.model.version !== spec.model.version) {
    throw new VectorIndexError(`collection name ${name} is taken by another model`);
  }
  if (had.dimension !== spec.dimension || had.metric !== spec.metric) {
    throw new VectorIndexError(
      `model ${spec.model.id}@${spec.model.version} has a collection of ` +
        `${had.dimension}-d ${had.metric} vectors, not ${spec.dimension}-d ${spec.metric}`,
    );
  }
}

/**
 * The vector index on Milvus: one collection per model version, named `collectionPrefix +
 * collectionName(model)`, whose description records its spec (the registry lives with the
 * vectors). Connects and checks the credentials before it resolves; misconfiguration, an
 * unreachable server and refused credentials throw `VectorIndexError` naming the address.
 */
export async function createMilvusIndex(options: MilvusIndexOptions): Promise<MilvusVectorIndex> {
  const { address, collectionPrefix: prefix = 'aex_', consistency = 'Strong' } = options;
  if (typeof address !== 'string' || address.trim() === '') {
    throw new VectorIndexError('a Milvus address is required (MILVUS_ADDRESS)');
  }
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new VectorIndexError(`collectionPrefix must match ${PREFIX}, got ${prefix}`);
  }
  if (!MILVUS_CONSISTENCY.includes(consistency)) {
    throw new VectorIndexError(`consistency must be one of ${MILVUS_CONSISTENCY.join(', ')}`);
  }
  const session = await openMilvusSession({ ...options, consistency });
  const { client, call, describe } = session;
  const nameOf = (spec: CollectionSpec['model']) => prefix + collectionName(spec);

  /** Creates the collection; another replica creating it first is fine, whatever it made. */
  async function create(name: string, spec: CollectionSpec): Promise<DescribeCollectionResponse> {
    try {
      ok(await client.createCollection(collectionRequest(name, spec, consistency)));
    } catch (err) {
      if (!(await describe(name))) {
        throw toVectorIndexError(err, { address, action: `create ${name}`, collection: name });
      }
    }
    const found = await describe(name);
    if (!found) throw new VectorIndexError(`collection ${name} vanished while being created`);
    return found;
  }

  return {
    kind: 'milvus',

    async collection(spec) {
      assertCollectionSpec(spec, MILVUS_MAX_DIMENSION);
      const name = nameOf(spec.model);
      const found = (await describe(name)) ?? (await create(name, spec));
      checkSpec(found, name, spec);
      await prepareMilvusCollection(session, name, spec);
      return milvusCollection(session, name, spec);
    },

    async listCollections() {
      const shown = await call('list collections', () => client.showCollections());
      const names = shown.data.map((c) => c.name).filter((n) => n.startsWith(prefix));
      const listed = await Promise.all(
        names.map(async (name) => {
          const spec = parseSpecDescription((await describe(name))?.schema?.description);
          // Dropped since the listing, or not ours: neither is one of AEX's collections.
          if (!spec || nameOf(spec.model) !== name) return undefined;
          return { name, spec, count: await countMilvusRows(session, name, '') };
        }),
      );
      return listed
        .filter((l) => l !== undefined)
        .sort(
          (a, b) =>
            a.spec.model.id.localeCompare(b.spec.model.id) ||
            a.spec.model.version.localeCompare(b.spec.model.version),
        );
    },

    async dropCollection(model) {
      assertModel(model);
      const name = nameOf(model);
      const had = parseSpecDescription((await describe(name))?.schema?.description);
      // Only a collection recorded for exactly this model: never one that merely shares a name.
      if (!had || had.model.id !== model.id || had.model.version !== model.version) return;
      try {
        ok(await client.dropCollection({ collection_name: name }));
      } catch (err) {
        if (classifyMilvusError(err) === 'not_found') return;
        throw toVectorIndexError(err, { address, action: `drop ${name}`, collection: name });
      }
    },

    async close() {
      await client.closeConnection();
    },
  };
}
