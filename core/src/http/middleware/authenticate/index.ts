import type { Principal } from '@aex/shared';
import { type AexEnv, problemResponse } from '@aex/shared/http';
import {
  KeySourceUnavailableError,
  TokenRejectedError,
  type TokenVerifier,
} from '@aex/shared/ports/identity/mod';
import type { Context, MiddlewareHandler } from 'hono';

/** Checks a presented API key (`aex_<id>_<secret>`): its principal, or null when it is not valid. */
export interface ApiKeyVerifier {
  verify(presented: string): Promise<Principal | null>;
}

export interface AuthenticateOptions {
  /** Access tokens: of the external OIDC issuer, or of the built-in one. */
  tokens: TokenVerifier;
  apiKeys: ApiKeyVerifier;
}

/** Every API key starts so: the credential says which check it needs. */
export const API_KEY_PREFIX = 'aex_';
// RFC 6750 §2.1: b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const REALM = 'realm="aex"';

/** RFC 6750 §3: the challenge of a 401 for a credential that was sent but proves nothing. */
export const INVALID_TOKEN_CHALLENGE = `Bearer ${REALM}, error="invalid_token"`;
/** The challenge of a 401 where no credential was sent. */
export const BEARER_CHALLENGE = `Bearer ${REALM}`;

type Presented =
  | { kind: 'none' }
  | { kind: 'unreadable'; detail: string }
  | { kind: 'api-key' | 'token'; value: string };

/**
 * Sets `principal` from the request's credential: `Authorization: Bearer <access token>`,
 * `Authorization: Bearer aex_…` or `X-Api-Key: aex_…`. No credential: anonymous (what
 * anonymous may do is the authorization's call). A credential that is sent but proves
 * nothing is a 401, never a silent downgrade to anonymous: a client whose token expired must
 * learn so, not get a public view of the library. Core never trusts identity headers set by a
 * proxy: it checks the credential itself.
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler<AexEnv> {
  if (!options?.tokens || !options.apiKeys) {
    throw new TypeError('authenticate: tokens and apiKeys verifiers are required');
  }
  return async function authenticateRequest(c, next) {
    const presented = presentedCredential(c);
    if (presented.kind === 'none') return next();
    if (presented.kind === 'unreadable') return invalid(c, presented.detail);
    let principal: Principal | null;
    try {
      principal =
        presented.kind === 'api-key'
          ? await options.apiKeys.verify(presented.value)
          : await options.tokens.verify(presented.value);
    } catch (err) {
      if (err instanceof TokenRejectedError) {
        c.get('log').info({ reason: err.reason, err: err.message }, 'bearer token rejected');
        return invalid(
          c,
          'The bearer token is not valid here (expired, not yet valid, or not issued for this AEX). Sign in again or get a new token, then retry.',
        );
      }
      if (err instanceof KeySourceUnavailableError) {
        c.get('log').error({ err: err.message }, 'token signing keys unavailable');
        return problemResponse(
          c,
          'unavailable',
          "Tokens cannot be checked right now: the identity provider's signing keys are unreachable. Retry shortly; an operator should check AEX_OIDC_ISSUER and AEX_OIDC_JWKS_URL.",
          { 'retry-after': '5' },
        );
      }
      throw err;
    }
    if (!principal) {
      // Only the key's id part is logged: never a byte of its secret.
      const keyId = presented.value.split('_')[1]?.slice(0, 64);
      c.get('log').info({ keyId }, 'API key rejected');
      return invalid(
        c,
        'The API key is not valid (unknown, revoked or expired). Ask an admin for a new one.',
      );
    }
    c.set('principal', principal);
    return next();
  };
}

function presentedCredential(c: Context<AexEnv>): Presented {
  const authorization = c.req.header('authorization')?.trim() || undefined;
  const apiKey = c.req.header('x-api-key')?.trim() || undefined;
  if (authorization && apiKey) {
    return {
      kind: 'unreadable',
      detail: 'Send one credential: Authorization or X-Api-Key, not both.',
    };
  }
  if (apiKey) {
    return apiKey.startsWith(API_KEY_PREFIX) && apiKey.length <= 512
      ? { kind: 'api-key', value: apiKey }
      : { kind: 'unreadable', detail: `X-Api-Key must hold an AEX API key (${API_KEY_PREFIX}…).` };
  }
  if (!authorization) return { kind: 'none' };
  const value = BEARER.exec(authorization)?.[1];
  if (!value) {
    return {
      kind: 'unreadable',
      detail: 'The Authorization header must be "Bearer <access token or API key>".',
    };
  }
  return { kind: value.startsWith(API_KEY_PREFIX) ? 'api-key' : 'token', value };
}

function invalid(c: Context<AexEnv>, detail: string): Response {
  return problemResponse(c, 'unauthenticated', detail, {
    'www-authenticate': INVALID_TOKEN_CHALLENGE,
  });
}
