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
import { EdgeSecurityEnv } from './security-env.ts';

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
  /**
   * NATS's WebSocket listener (`ws://nats:8080`): the edge subscribes to `aex.image.deleted`
   * there and purges deleted images from its caches. Unset: no purge on delete.
   */
  AEX_NATS_WS_URL: envUrl(['ws', 'wss']).optional(),
  /** Auth token for that listener, when it asks for one. */
  AEX_NATS_WS_TOKEN: z.string().min(1).optional(),
  NATS_SUBJECT_PREFIX: EventBusEnv.shape.NATS_SUBJECT_PREFIX,
  /**
   * The OIDC client of the web login (authorization code + PKCE) at AEX_OIDC_ISSUER: a public
   * client whose redirect URI is `<AEX_PUBLIC_URL>/auth/callback`.
   */
  AEX_OIDC_CLIENT_ID: z.string().min(1).max(256).default('aex-web'),
  ...EdgeSecurityEnv.shape,
  ...BlobStoreEnv.shape,
});
export type EdgeConfig = z.infer<typeof EdgeEnv>;

/** Parses the edge's environment once at start; throws ConfigError listing every bad variable. */
export function parseEdgeConfig(env: Record<string, string | undefined>): EdgeConfig {
  return parseEnv(EdgeEnv, env);
}
