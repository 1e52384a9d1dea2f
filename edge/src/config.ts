import { BlobStoreEnv, envBytes, envLogLevel, envPort, envUrl, parseEnv } from '@aex/shared';
import { z } from 'zod';

/** The edge's environment. */
export const EdgeEnv = z.object({
  AEX_DATA_DIR: z.string().default('./data'),
  PORT: envPort.default(8080),
  /** Where core answers when the edge runs alone (`aex serve edge`). */
  CORE_URL: envUrl(['http', 'https']).default('http://127.0.0.1:8081'),
  /** Local disk cache of thumbnails and previews; default `<AEX_DATA_DIR>/cache/edge`. */
  AEX_CACHE_DIR: z.string().optional(),
  AEX_CACHE_MAX_BYTES: envBytes.default(1024 ** 3),
  /** Static web app to serve at `/`; default the repository's `web/` folder. */
  AEX_WEB_DIR: z.string().optional(),
  LOG_LEVEL: envLogLevel.default('info'),
  ...BlobStoreEnv.shape,
});
export type EdgeConfig = z.infer<typeof EdgeEnv>;

/** Parses the edge's environment once at start; throws ConfigError listing every bad variable. */
export function parseEdgeConfig(env: Record<string, string | undefined>): EdgeConfig {
  return parseEnv(EdgeEnv, env);
}
