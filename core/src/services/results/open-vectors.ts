import type { Logger } from '@aex/shared/ports/log';
import type { Database } from '../../db/database.ts';
import { createPgvectorIndex } from '../../vector/pgvector.ts';
import type { VectorIndex } from '../../vector/vector-index.ts';
import { ResultVectors } from './result-vectors.ts';

/** What decides where vectors go (core's config). */
export interface VectorStoreConfig {
  MILVUS_ADDRESS?: string;
  MILVUS_TOKEN?: string;
  MILVUS_DATABASE?: string;
}

/** The vector store core runs with, or why it has none. */
export type OpenedVectors =
  | { vectors: ResultVectors; close(): Promise<void> }
  | { vectors: null; reason: string; close(): Promise<void> };

/**
 * Chooses the vector index (DESIGN.md, "Ports"): Milvus when `MILVUS_ADDRESS` is set, else
 * pgvector in the metadata store (always in PGlite; in Postgres only where the extension is
 * installed). A Postgres without pgvector and no Milvus leave core without vectors: said once
 * here, and search answers 503 saying why; everything else works.
 */
export async function openResultVectors(
  config: VectorStoreConfig,
  database: Database,
  log: Logger,
): Promise<OpenedVectors> {
  if (config.MILVUS_ADDRESS) {
    // Loaded only when configured: the Milvus SDK (gRPC) is large.
    const { createMilvusIndex } = await import('../../vector/milvus.ts');
    const index = await createMilvusIndex({
      address: config.MILVUS_ADDRESS,
      token: config.MILVUS_TOKEN,
      database: config.MILVUS_DATABASE,
    });
    log.info({ vectors: 'milvus', address: config.MILVUS_ADDRESS }, 'vector index ready');
    return { vectors: new ResultVectors(index), close: () => index.close() };
  }
  const reason =
    'image and face vectors cannot be stored: this Postgres has no pgvector extension and ' +
    'MILVUS_ADDRESS is not set. Semantic and reverse image search answer 503 until one of them ' +
    'is available; tags, faces and text are stored as usual.';
  if (!(await database.hasPgvector())) {
    log.warn({ vectors: 'none' }, reason);
    return { vectors: null, reason, close: async () => {} };
  }
  let index: VectorIndex;
  try {
    index = await createPgvectorIndex(database.db);
  } catch (err) {
    // Installed but not creatable by this user (CREATE EXTENSION needs privileges).
    log.warn({ vectors: 'none', err: (err as Error).message }, reason);
    return { vectors: null, reason, close: async () => {} };
  }
  log.info({ vectors: 'pgvector', store: database.kind }, 'vector index ready');
  return { vectors: new ResultVectors(index), close: async () => {} };
}
