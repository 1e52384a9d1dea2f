import {
  type AexEnv,
  problemErrorHandler,
  problemNotFound,
  requestContext,
} from '@aex/shared/http';
import type { Logger } from '@aex/shared/ports/log';
import { Hono } from 'hono';
import { registerApiProxy, type Upstream } from './routes/api-proxy.ts';
import { registerThumbnails } from './routes/thumbnails.ts';
import { registerWeb } from './routes/web.ts';
import type { ThumbnailCache } from './thumbnails/thumbnail-cache.ts';

export interface EdgeAppDeps {
  log: Logger;
  cache: ThumbnailCache;
  upstream: Upstream;
  /** Folder of the static web app, served at `/`. */
  webDir?: string;
}

/** The edge: thumbnails from its disk cache, the API proxied to core, the web app. */
export function createEdgeApp(deps: EdgeAppDeps): Hono<AexEnv> {
  const app = new Hono<AexEnv>();
  app.use(requestContext({ log: deps.log, quietPaths: ['/healthz'] }));
  app.onError(problemErrorHandler());
  app.notFound(problemNotFound());
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  registerThumbnails(app, deps);
  registerApiProxy(app, deps);
  if (deps.webDir) registerWeb(app, { dir: deps.webDir });
  return app;
}
