import { join, resolve } from 'node:path';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { Logger } from '@aex/shared/ports/log';
import { createEdgeApp } from './app.ts';
import type { EdgeConfig } from './config.ts';
import { httpUpstream, type Upstream } from './routes/api-proxy.ts';
import { ThumbnailCache } from './thumbnails/thumbnail-cache.ts';

export { type EdgeConfig, EdgeEnv, parseEdgeConfig } from './config.ts';
export type { Upstream } from './routes/api-proxy.ts';

export interface EdgeDeps {
  log: Logger;
  /** The origin of thumbnails and previews. */
  blobs: BlobStore;
  /** Core in-process (all-in-one); default: HTTP to CORE_URL. */
  upstream?: Upstream;
}

export interface Edge {
  fetch: (request: Request) => Response | Promise<Response>;
}

/** The repository's placeholder web app, used when AEX_WEB_DIR is unset. */
export const DEFAULT_WEB_DIR = resolve(import.meta.dir, '../../web/public');

/** Builds the edge's fetch handler; the caller serves it. */
export function createEdge(config: EdgeConfig, deps: EdgeDeps): Edge {
  const cacheDir = config.AEX_CACHE_DIR ?? join(config.AEX_DATA_DIR, 'cache', 'edge');
  const app = createEdgeApp({
    log: deps.log,
    cache: new ThumbnailCache({
      dir: cacheDir,
      origin: deps.blobs,
      maxBytes: config.AEX_CACHE_MAX_BYTES,
    }),
    upstream: deps.upstream ?? httpUpstream(config.CORE_URL),
    webDir: resolve(config.AEX_WEB_DIR ?? DEFAULT_WEB_DIR),
  });
  return { fetch: (request) => app.fetch(request) };
}
