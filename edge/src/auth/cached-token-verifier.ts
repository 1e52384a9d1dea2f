import type { Principal } from '@aex/shared';
import type { TokenVerifier } from '@aex/shared/ports/identity/token-verifier';
import { LruMap } from './lru-map.ts';

export interface CachedTokenVerifierOptions {
  /** Longest a verified token is trusted without checking its signature again. Default 60 s. */
  maxAgeMs?: number;
  /** Most tokens kept. Default 10 000. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * A verifier that remembers tokens it accepted, until the token's own `exp` or `maxAgeMs`,
 * whichever comes first. A client sends the same access token with every request for its
 * 15 minutes; checking an ES256 signature each time would cost the edge more than serving a
 * cached thumbnail. Only accepted tokens are kept (by their full text, so a changed byte is a
 * different token), and only after the full check, so nothing is trusted that was not verified.
 */
export function cachedTokenVerifier(
  verifier: TokenVerifier,
  options: CachedTokenVerifierOptions = {},
): TokenVerifier {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const accepted = new LruMap<string, Principal>({ maxEntries: options.maxEntries ?? 10_000, now });
  return {
    async verify(token) {
      const known = accepted.get(token);
      if (known) return known;
      const principal = await verifier.verify(token);
      const exp = expiryOf(token);
      const ttl = exp === undefined ? 0 : Math.min(maxAgeMs, exp * 1000 - now());
      if (ttl > 0) accepted.set(token, principal, ttl);
      return principal;
    },
  };
}

/** `exp` of a JWT already verified (so its payload is well-formed JSON), in unix seconds. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}
