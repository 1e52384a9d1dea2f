import type { AexEnv } from '@aex/shared/http';
import { KeySourceUnavailableError, TokenRejectedError } from '@aex/shared/ports/identity/errors';
import type { TokenVerifier } from '@aex/shared/ports/identity/token-verifier';
import type { MiddlewareHandler } from 'hono';
import type { ApiKeyPrincipals } from '../auth/api-key-principals.ts';
import { credentialOf, type RequestAuth } from '../auth/request-auth.ts';

export interface AuthenticateOptions {
  tokens: TokenVerifier;
  apiKeys: ApiKeyPrincipals;
}

/**
 * Works out what the request's credentials prove (`c.get('requestAuth')`) without refusing
 * anything: what a request needs depends on the route (a public thumbnail needs nothing), and
 * the rate limiter that runs next keys verified clients by who they are. A JWT is verified
 * here; an API key only core can check, so the edge uses core's recent answer when it has one.
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler<AexEnv> {
  return async function authenticateMiddleware(c, next) {
    const credential = credentialOf(c.req.raw.headers);
    let auth: RequestAuth = { kind: 'anonymous' };
    if (credential.kind === 'bearer') {
      try {
        auth = { kind: 'token', principal: await options.tokens.verify(credential.token) };
      } catch (err) {
        if (err instanceof TokenRejectedError) {
          // Logged for the operator; the client only ever hears "invalid token".
          c.get('log').info({ reason: err.reason, detail: err.message }, 'bearer token rejected');
          auth = { kind: 'rejected-token', reason: err.reason };
        } else if (err instanceof KeySourceUnavailableError) {
          c.get('log').warn(
            { err: err.message },
            'cannot check bearer tokens: issuer keys out of reach',
          );
          auth = { kind: 'unverifiable-token' };
        } else {
          throw err;
        }
      }
    } else if (credential.kind === 'api-key') {
      auth = {
        kind: 'api-key',
        key: credential.key,
        known: await options.apiKeys.peek(credential.key),
      };
    }
    c.set('requestAuth', auth);
    await next();
  };
}
