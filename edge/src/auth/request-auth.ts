import type { Principal } from '@aex/shared';
import type { TokenRejectionReason } from '@aex/shared/ports/identity/errors';

/**
 * What a request's credentials proved at the edge, set by `authenticate` for the rate limiter,
 * the `/api/*` guard and the thumbnail route. Core decides again on everything it serves.
 */
export type RequestAuth =
  | { kind: 'anonymous' }
  /** A bearer JWT the issuer's keys verified. */
  | { kind: 'token'; principal: Principal }
  /** A bearer JWT that proves nothing (forged, expired, wrong issuer or audience…). */
  | { kind: 'rejected-token'; reason: TokenRejectionReason }
  /** A bearer JWT that could not be checked: the issuer's keys were out of reach. */
  | { kind: 'unverifiable-token' }
  /**
   * An API key (`aex_…`): only core can check it. `known` is core's recent answer about it
   * (a principal, or null for a key core refused), undefined when the edge has not asked yet.
   */
  | { kind: 'api-key'; key: string; known: Principal | null | undefined };

declare module 'hono' {
  interface ContextVariableMap {
    requestAuth: RequestAuth;
  }
}

/** A credential as sent, before any check. */
export type Credential =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'api-key'; key: string };

/** API keys start with this (`aex_<id>_<secret>`), which tells them from JWTs. */
export const API_KEY_PREFIX = 'aex_';
/** Longer headers are not credentials AEX issued; they are refused unread. */
const MAX_CREDENTIAL_LENGTH = 16 * 1024;

/**
 * The credential of a request: `Authorization: Bearer <jwt | aex_…>`, or `X-Api-Key: aex_…`
 * (the Authorization header wins when both are sent). Other schemes (Basic…) are not AEX's
 * and count as none here; core answers them.
 */
export function credentialOf(headers: Headers): Credential {
  const authorization = headers.get('authorization');
  if (authorization !== null) {
    const m = /^Bearer(?:[ \t]+(\S*))?[ \t]*$/i.exec(authorization);
    if (m) {
      const token = (m[1] ?? '').slice(0, MAX_CREDENTIAL_LENGTH + 1);
      return token.startsWith(API_KEY_PREFIX)
        ? { kind: 'api-key', key: token }
        : { kind: 'bearer', token };
    }
  }
  const apiKey = headers.get('x-api-key')?.trim();
  if (apiKey) return { kind: 'api-key', key: apiKey.slice(0, MAX_CREDENTIAL_LENGTH + 1) };
  return { kind: 'none' };
}
