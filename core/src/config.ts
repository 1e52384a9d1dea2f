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

/** Core's environment. Defaults give the embedded mode: nothing to run but AEX. */
export const CoreEnv = z.object({
  AEX_DATA_DIR: z.string().default('./data'),
  CORE_PORT: envPort.default(8081),
  DATABASE_URL: envUrl(['postgres', 'postgresql']).optional(),
  AEX_MAX_UPLOAD_BYTES: envBytes.default(256 * 1024 * 1024),
  AEX_MAX_PIXELS: z.coerce.number().int().positive().default(250_000_000),
  AEX_DECODE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(availableParallelism()),
  LOG_LEVEL: envLogLevel.default('info'),
  ...BlobStoreEnv.shape,
  ...EventBusEnv.shape,
});
export type CoreConfig = z.infer<typeof CoreEnv>;

/** Parses core's environment once at start; throws ConfigError listing every bad variable. */
export function parseCoreConfig(env: Record<string, string | undefined>): CoreConfig {
  return parseEnv(CoreEnv, env);
}
