import { availableParallelism } from 'node:os';
import {
  BlobStoreEnv,
  Email,
  EventBusEnv,
  envBytes,
  envDuration,
  envLogLevel,
  envPort,
  envUrl,
  envUrlSigningKey,
  IdentityEnv,
  MIN_PASSWORD_LENGTH,
  parseEnv,
} from '@aex/shared';
import { z } from 'zod';

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
  /** The URL users reach AEX at: the built-in issuer's `iss` (without a trailing slash). */
  AEX_PUBLIC_URL: envUrl(['http', 'https'])
    .default('http://localhost:8080')
    .transform((v) => v.replace(/\/+$/, '')),
  /** The built-in issuer's first admin, created when there is no user yet. */
  AEX_ADMIN_EMAIL: Email.optional(),
  /** Its password; unset: one is generated and printed once. */
  AEX_ADMIN_PASSWORD: z
    .string()
    .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
    .max(1024)
    .optional(),
  /**
   * HMAC key of internal images' signed thumbnail URLs, shared with the edge. Unset: `aex serve`
   * reads or makes `<AEX_DATA_DIR>/secrets/url-signing.key` (see `resolveUrlSigningKey`).
   */
  AEX_URL_SIGNING_KEY: envUrlSigningKey.optional(),
  ...IdentityEnv.shape,
  ...BlobStoreEnv.shape,
  ...EventBusEnv.shape,
});
export type CoreConfig = z.infer<typeof CoreEnv>;

/** Parses core's environment once at start; throws ConfigError listing every bad variable. */
export function parseCoreConfig(env: Record<string, string | undefined>): CoreConfig {
  return parseEnv(CoreEnv, env);
}
