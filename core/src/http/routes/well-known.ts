import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { IDENTITY_PATHS, type Identity } from '../../identity/mod.ts';

const Jwks = z
  .object({ keys: z.array(z.record(z.string(), z.unknown())) })
  .meta({ id: 'JsonWebKeySet' });

const jwksRoute = createRoute({
  method: 'get',
  path: IDENTITY_PATHS.jwks,
  summary: "The built-in issuer's public signing keys (JWKS)",
  responses: {
    200: { description: 'The key set', content: { 'application/json': { schema: Jwks } } },
  },
});

const discoveryRoute = createRoute({
  method: 'get',
  path: IDENTITY_PATHS.discovery,
  summary: "The built-in issuer's OpenID Provider Metadata",
  responses: {
    200: {
      description: 'The metadata',
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
    },
  },
});

// Five minutes: keys change rarely, and verifiers re-read the set when a token names a kid
// they lack. A retired key stays published longer than its tokens live, so a cached copy
// never drops a key still in use; only a freshly rotated-in key can lag by this much behind
// a shared cache, which is why rotation is rare and manual.
const CACHEABLE = 'public, max-age=300';

/** `/.well-known/jwks.json` and `/.well-known/openid-configuration`: public, cacheable. */
export function registerWellKnown(app: OpenAPIHono<AexEnv>, deps: { identity: Identity }): void {
  const { issuer } = deps.identity;
  app.openapi(jwksRoute, async (c) => {
    c.header('cache-control', CACHEABLE);
    return c.json(await issuer.jwks(), 200);
  });
  app.openapi(discoveryRoute, (c) => {
    c.header('cache-control', CACHEABLE);
    return c.json(issuer.openIdConfiguration(), 200);
  });
}
