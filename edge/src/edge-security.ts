import { ConfigError, type UrlSigningKey } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import type { TokenVerifier } from '@aex/shared/ports/identity/token-verifier';
import type { Hono } from 'hono';
import { ApiKeyPrincipals } from './auth/api-key-principals.ts';
import { edgeTokenVerifier } from './auth/edge-token-verifier.ts';
import { PublicImages } from './auth/public-images.ts';
import { authenticate } from './middleware/authenticate.ts';
import { clientAddress } from './middleware/client-address.ts';
import { corsPolicy } from './middleware/cors.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { rejectInvalidToken } from './middleware/reject-invalid-token.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { TokenBucketLimiter } from './middleware/token-bucket.ts';
import type { ImagePurges } from './purge/image-purges.ts';
import type { Upstream } from './routes/api-proxy.ts';
import type { EdgeSecurityEnv } from './security-env.ts';
import type { ThumbnailAccessDeps } from './thumbnails/thumbnail-access.ts';

/** The edge's security settings, from EdgeSecurityEnv (see `edgeSecurityFromConfig`). */
export interface EdgeSecurity {
  /** Verifies bearer JWTs (OIDC issuer or the built-in one). */
  tokens: TokenVerifier;
  /** Checks signed thumbnail URLs; the key core signs them with. */
  urlSigningKey: UrlSigningKey;
  /** Per-client token bucket; null: no limit. */
  rateLimit: { ratePerSec: number; burst: number; describe: string } | null;
  /** Take the client address from X-Forwarded-For (behind a trusted proxy). */
  trustProxy: boolean;
  /** Origins allowed to call the API from the browser (CORS). */
  corsOrigins: string[];
  /** Origins the web app may connect to besides its own (CSP `connect-src`): the OIDC issuer. */
  connectOrigins?: string[];
}

/** Paths never rate limited: load balancer health checks. */
const UNLIMITED_PATHS = ['/healthz'];

/**
 * Installs the edge's security middleware, after the request context and before any route,
 * in this order: security headers (on every answer, errors and 429s included) → CORS (a
 * preflight is answered here) → authenticate (what the credentials prove; nothing refused)
 * → rate limit (keyed by that verified identity, else the client address) → refusal of
 * invalid tokens on `/api/*`. Authentication precedes the limiter so that its key is an
 * identity the edge checked: keyed by a claimed `sub`, every made-up token would get a fresh
 * bucket. Returns what the thumbnail route needs to decide access.
 */
export function installSecurity(
  app: Hono<AexEnv>,
  options: { security: EdgeSecurity; upstream: Upstream; purges?: ImagePurges },
): ThumbnailAccessDeps {
  const { security, upstream } = options;
  const publicImages = new PublicImages({ upstream });
  const apiKeys = new ApiKeyPrincipals({ upstream });
  // A deleted image's public answer goes with it; after missed events, every answer goes.
  options.purges?.add('public-images', (sha256) => publicImages.forget(sha256));
  options.purges?.addReset('public-images', () => publicImages.clear());

  app.use(securityHeaders({ connectOrigins: security.connectOrigins }));
  const cors = corsPolicy({ origins: security.corsOrigins });
  app.use('/api/*', cors);
  app.use('/.well-known/*', cors);
  app.use(authenticate({ tokens: security.tokens, apiKeys }));
  if (security.rateLimit) {
    const limiter = new TokenBucketLimiter(security.rateLimit);
    app.use(
      rateLimit({
        limiter,
        describe: security.rateLimit.describe,
        exemptPaths: UNLIMITED_PATHS,
        clientKey: (c) => {
          const auth = c.get('requestAuth');
          if (auth?.kind === 'token') return `sub:${auth.principal.subject}`;
          if (auth?.kind === 'api-key' && auth.known) return `key:${auth.known.subject}`;
          return `ip:${clientAddress(c, security.trustProxy)}`;
        },
      }),
    );
  }
  app.use('/api/*', rejectInvalidToken());
  return { urlSigningKey: security.urlSigningKey, publicImages, apiKeys };
}

/**
 * The security settings of a configured edge. The signing key is `urlSigningKey` when the
 * caller resolved one (`aex serve` reads or makes the key file), else AEX_URL_SIGNING_KEY;
 * with neither the edge cannot check signed URLs, which is a configuration error.
 */
export function edgeSecurityFromConfig(
  config: EdgeSecurityEnv & { CORE_URL: string },
  options: { urlSigningKey?: Uint8Array; inProcessCore?: Upstream } = {},
): EdgeSecurity {
  const urlSigningKey = options.urlSigningKey ?? config.AEX_URL_SIGNING_KEY;
  if (!urlSigningKey) {
    throw new ConfigError([
      'AEX_URL_SIGNING_KEY: must be set for the edge to check signed thumbnail URLs: set the same value as core (make one with `openssl rand -hex 32`)',
    ]);
  }
  const rate = config.AEX_RATE_LIMIT;
  const burst = rate ? (config.AEX_RATE_BURST ?? Math.max(1, Math.round(rate.perSec * 2))) : 0;
  return {
    tokens: edgeTokenVerifier({ config, inProcessCore: options.inProcessCore }),
    urlSigningKey,
    rateLimit: rate
      ? { ratePerSec: rate.perSec, burst, describe: `${rate.text} per client, bursts of ${burst}` }
      : null,
    trustProxy: config.AEX_TRUST_PROXY,
    corsOrigins: config.AEX_CORS_ORIGINS,
    connectOrigins: config.AEX_OIDC_ISSUER ? [new URL(config.AEX_OIDC_ISSUER).origin] : [],
  };
}
