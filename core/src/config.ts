import { availableParallelism } from 'node:os';
import {
  BlobStoreEnv,
  EventBusEnv,
  envBytes,
  envLogLevel,
  envPort,
  envUrl,
  parseEnv,
} from '@aex/shared';
import { z } from 'zod';

/** A duration: milliseconds, or a number with an `ms`, `s`, `m`, `h` or `d` suffix (`24h`). */
const envDuration = z.string().transform((v, ctx) => {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(v);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration like 500ms, 30s, 15m, 24h or 7d' });
    return z.NEVER;
  }
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] ?? 'ms'] ?? 1;
  return Math.round(Number(m[1]) * unit);
});

/** Core's environment. Defaults give the embedded mode: nothing to run but AEX. */
export const CoreEnv = z.object({
  AEX_DATA_DIR: z.string().default('./data'),
  CORE_PORT: envPort.default(8081),
  DATABASE_URL: envUrl(['postgres', 'postgresql']).optional(),
  AEX_MAX_UPLOAD_BYTES: envBytes.default(256 * 1024 * 1024),
  /** How long an unfinished resumable upload is kept (tus expiration extension). */
  AEX_UPLOAD_EXPIRY: envDuration.pipe(z.number().positive()).default(24 * 3600e3),
  /** How long an Idempotency-Key's stored answer is replayed. */
  AEX_IDEMPOTENCY_TTL: envDuration.pipe(z.number().positive()).default(24 * 3600e3),
  AEX_MAX_PIXELS: z.coerce.number().int().positive().default(250_000_000),
  AEX_DECODE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(availableParallelism()),
  LOG_LEVEL: envLogLevel.default('info'),
  /**
   * Milvus's proxy (`host:port` or `https://host:port`): image and face vectors go there.
   * Unset: pgvector in the metadata store (PGlite always; Postgres where it is installed).
   */
  MILVUS_ADDRESS: z.string().trim().min(1).optional(),
  /** Milvus API key or `user:password`. */
  MILVUS_TOKEN: z.string().min(1).optional(),
  MILVUS_DATABASE: z.string().min(1).optional(),
  /** How long a search waits for a worker to embed its text before answering 503. */
  AEX_SEARCH_TIMEOUT: envDuration.pipe(z.number().positive().max(60_000)).default(3000),
  /** Search query embeddings kept in memory (least recently used go first). */
  AEX_SEARCH_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(1000),
  ...BlobStoreEnv.shape,
  ...EventBusEnv.shape,
});
export type CoreConfig = z.infer<typeof CoreEnv>;

/** Parses core's environment once at start; throws ConfigError listing every bad variable. */
export function parseCoreConfig(env: Record<string, string | undefined>): CoreConfig {
  return parseEnv(CoreEnv, env);
}
