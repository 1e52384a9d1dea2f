import { join, resolve } from 'node:path';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { Logger } from '@aex/shared/ports/log';
import { createEdgeApp } from './app.ts';
import type { EdgeConfig } from './config.ts';
import { edgeSecurityFromConfig } from './edge-security.ts';
import { listenForImageEvents } from './purge/image-event-listener.ts';
import { ImagePurges } from './purge/image-purges.ts';
import { httpUpstream, type Upstream } from './routes/api-proxy.ts';
import { ThumbnailCache } from './thumbnails/thumbnail-cache.ts';
import { webLoginFromConfig } from './web-login/web-login.ts';

export { type EdgeConfig, EdgeEnv, parseEdgeConfig } from './config.ts';
export { runEdgePurgeConsumer } from './purge/purge-consumer.ts';
export type { Upstream } from './routes/api-proxy.ts';
export { type RunningServer, serveFetch } from './runtime/serve.ts';

export interface EdgeDeps {
  log: Logger;
  /** The origin of thumbnails and previews. */
  blobs: BlobStore;
  /** Core in-process (all-in-one); default: HTTP to CORE_URL. */
  upstream?: Upstream;
  /**
   * The key of signed thumbnail URLs as `resolveUrlSigningKey` found it (env or key file);
   * default AEX_URL_SIGNING_KEY, and a ConfigError when that is unset too.
   */
  urlSigningKey?: Uint8Array;
}

export interface Edge {
  /**
   * The handler to serve. `connection` is what the server passes beside the request (Bun's
   * server, Deno's ServeHandlerInfo): the client's address is read from it for rate limits.
   */
  fetch: (request: Request, connection?: unknown) => Response | Promise<Response>;
  /** Forgets everything cached about an image (what `aex.image.deleted` triggers). */
  purge(sha256: string): Promise<void>;
  /** Stops listening for image events. */
  close(): Promise<void>;
}

/** The repository's placeholder web app, used when AEX_WEB_DIR is unset. */
export const DEFAULT_WEB_DIR = resolve(import.meta.dirname, '../../web/public');

/** Builds the edge's fetch handler; the caller serves it. */
export function createEdge(config: EdgeConfig, deps: EdgeDeps): Edge {
  const cacheDir = config.AEX_CACHE_DIR ?? join(config.AEX_DATA_DIR, 'cache', 'edge');
  const cache = new ThumbnailCache({
    dir: cacheDir,
    origin: deps.blobs,
    maxBytes: config.AEX_CACHE_MAX_BYTES,
  });
  const purges = new ImagePurges();
  purges.add('thumbnail-cache', (sha256) => cache.purge(sha256));
  purges.addReset('thumbnail-cache', () => cache.revalidateAll());
  const app = createEdgeApp({
    log: deps.log,
    cache,
    purges,
    upstream: deps.upstream ?? httpUpstream(config.CORE_URL),
    security: edgeSecurityFromConfig(config, {
      urlSigningKey: deps.urlSigningKey,
      inProcessCore: deps.upstream,
    }),
    webDir: resolve(config.AEX_WEB_DIR ?? DEFAULT_WEB_DIR),
    webLogin: webLoginFromConfig(config, deps.urlSigningKey),
  });
  const events = config.AEX_NATS_WS_URL
    ? listenForImageEvents({
        url: config.AEX_NATS_WS_URL,
        token: config.AEX_NATS_WS_TOKEN,
        subjectPrefix: config.NATS_SUBJECT_PREFIX,
        purges,
        onIngested: (sha256) => cache.revive(sha256),
        log: deps.log,
      })
    : undefined;
  return {
    fetch: (request, connection) => app.fetch(request, connection),
    purge: (sha256) => purges.purge(sha256),
    close: async () => {
      await events?.close();
    },
  };
}
