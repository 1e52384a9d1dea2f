import { type AexEnv, problemResponse } from '@aex/shared/http';
import type { MiddlewareHandler } from 'hono';

/**
 * Paths that must work with a stale token still attached: a client whose access token
 * expired calls these to get a new one, and many send their old Authorization header along.
 */
const TOKEN_RENEWAL_PATHS = new Set([
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
  '/api/v1/auth/logout',
]);

/**
 * Refuses an invalid bearer JWT at the edge with 401 (RFC 6750 §3.1 `invalid_token`), so a
 * forged or expired token never costs core a request. Core checks every token again
 * (defense in depth): this is an early answer, not the authorization. API keys and tokens
 * the edge could not check (issuer keys out of reach) go on to core, which can.
 */
export function rejectInvalidToken(): MiddlewareHandler<AexEnv> {
  return async function rejectInvalidTokenMiddleware(c, next) {
    if (c.get('requestAuth')?.kind !== 'rejected-token' || TOKEN_RENEWAL_PATHS.has(c.req.path)) {
      return next();
    }
    return problemResponse(
      c,
      'unauthenticated',
      'The bearer token is not valid: it has expired or was not issued for AEX. Sign in again, or refresh the token, and retry.',
      { 'www-authenticate': 'Bearer realm="aex", error="invalid_token"' },
    );
  };
}
