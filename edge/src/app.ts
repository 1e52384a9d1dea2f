import {
  type AexEnv,
  problemErrorHandler,
  problemNotFound,
  requestContext,
} from '@aex/shared/http';
import type { Logger } from '@aex/shared/ports/log';
import { Hono } from 'hono';
import { type EdgeSecurity, installSecurity } from './edge-security.ts';
import type { ImagePurges } from './purge/image-purges.ts';
import { registerApiProxy, type Upstream } from './routes/api-proxy.ts';
import { registerThumbnails } from './routes/thumbnails.ts';
import { registerWeb } from './routes/web.ts';
import type { ThumbnailCache } from './thumbnails/thumbnail-cache.ts';
import { registerWebLogin } from './web-login/routes.ts';
import { sessionCredentials } from './web-login/session-credentials.ts';
import type { WebLogin } from './web-login/web-login.ts';

export interface EdgeAppDeps {
  log: Logger;
  cache: ThumbnailCache;
  /** Where a route registers what it caches per image, to forget it on delete. */
  purges?: ImagePurges;
  upstream: Upstream;
  /** Token verification, signed URLs, rate limit, CORS (see `edgeSecurityFromConfig`). */
  security: EdgeSecurity;
  /** Folder of the static web app, served at `/`. */
  webDir?: string;
  /** Sign-in at an external OIDC provider (`/auth/*`); only when AEX_OIDC_ISSUER is set. */
  webLogin?: WebLogin;
}

/** The edge: thumbnails from its disk cache, the API proxied to core, the web app. */
export function createEdgeApp(deps: EdgeAppDeps): Hono<AexEnv> {
  const app = new Hono<AexEnv>();
  app.use(requestContext({ log: deps.log, quietPaths: ['/healthz'] }));
  app.onError(problemErrorHandler());
  app.notFound(problemNotFound());
  // Before authentication: the session cookie becomes the bearer token it holds.
  if (deps.webLogin) app.use('/api/*', sessionCredentials(deps.webLogin));
  const access = installSecurity(app, deps);
  if (deps.webLogin) {
    registerWebLogin(app, { login: deps.webLogin, accessTokens: deps.security.tokens });
  }
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  registerThumbnails(app, { cache: deps.cache, access });
  registerApiProxy(app, deps);
  if (deps.webDir) registerWeb(app, { dir: deps.webDir });
  return app;
}
