import {
  type ConsistencyLevelEnum,
  type DescribeCollectionResponse,
  MilvusClient,
} from '@zilliz/milvus2-sdk-node';
import { classifyMilvusError, ok, toVectorIndexError } from './milvus-errors.ts';
import type { MilvusConsistency } from './milvus-spec.ts';
import { VectorIndexError } from './vector-index.ts';

/** What it takes to open a session: the address, credentials and the read consistency. */
export interface MilvusSessionOptions {
  address: string;
  token?: string;
  username?: string;
  password?: string;
  database?: string;
  consistency: MilvusConsistency;
  timeoutMs?: number;
}

/**
 * One connected Milvus client and the way its calls fail, shared by the index and its
 * collections, so every failure reads the same whichever operation met it.
 */
export interface MilvusSession {
  readonly client: MilvusClient;
  readonly address: string;
  /** The configured read consistency, for searches and counts. */
  readonly level: ConsistencyLevelEnum;
  /** Always Strong: for reads that must see the caller's own writes whatever `level` is. */
  readonly strong: ConsistencyLevelEnum;
  /** Runs one SDK call; a failure becomes a `VectorIndexError` saying what and where. */
  call<T>(action: string, fn: () => Promise<T>, collection?: string): Promise<T>;
  /** The collection's description, or undefined when there is no such collection. */
  describe(name: string): Promise<DescribeCollectionResponse | undefined>;
}

/**
 * Connects and proves the credentials by listing collections; throws `VectorIndexError`
 * naming the address (and MILVUS_ADDRESS) when Milvus cannot be reached or refuses them.
 */
export async function openMilvusSession(options: MilvusSessionOptions): Promise<MilvusSession> {
  const { address } = options;
  const client = new MilvusClient({
    address,
    token: options.token,
    username: options.username,
    password: options.password,
    database: options.database,
    timeout: options.timeoutMs,
    // The SDK's logger (one per process) prints every request under NODE_ENV=test and each
    // retry otherwise; failures reach AEX's log as VectorIndexErrors instead.
    logLevel: 'warn',
  });
  try {
    // The client connects from its constructor; this is where that attempt's failure lands.
    await client.connectPromise;
    // Connect alone does not prove the credentials on every version; a listing does.
    ok(await client.showCollections());
  } catch (err) {
    await client.closeConnection().catch(() => undefined);
    throw toVectorIndexError(err, { address, action: 'connect' });
  }

  async function describe(name: string): Promise<DescribeCollectionResponse | undefined> {
    try {
      return ok(await client.describeCollection({ collection_name: name }));
    } catch (err) {
      if (classifyMilvusError(err) === 'not_found') return undefined;
      throw toVectorIndexError(err, { address, action: `describe ${name}`, collection: name });
    }
  }

  async function call<T>(action: string, fn: () => Promise<T>, collection?: string): Promise<T> {
    try {
      return ok(await fn());
    } catch (err) {
      // On a dropped collection the SDK can trip over its own missing schema (a TypeError)
      // before Milvus says "not found"; asking again gives the error a caller can act on.
      if (collection && classifyMilvusError(err) === 'other') {
        const gone = await describe(collection).then(
          (found) => found === undefined,
          () => false,
        );
        if (gone) {
          const message = `collection ${collection} does not exist in Milvus at ${address} (dropped?)`;
          throw new VectorIndexError(message, { cause: err });
        }
      }
      throw toVectorIndexError(err, { address, action, collection });
    }
  }

  return {
    client,
    address,
    // The SDK picks the request's level with `||`, so Strong (enum 0) would fall back to the
    // collection's default; the level's name encodes to the same enum and is never falsy.
    level: options.consistency as unknown as ConsistencyLevelEnum,
    strong: 'Strong' as unknown as ConsistencyLevelEnum,
    call,
    describe,
  };
}
