import { createHash, timingSafeEqual } from 'node:crypto';

/** Every API key starts so: easy to spot in a leaked file, and tells it from a JWT at a glance. */
export const API_KEY_PREFIX = 'aex_';

const API_KEY =
  /^aex_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A new key's secret: 32 random bytes, base64url (43 characters). */
export function newApiKeySecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
}

/** `aex_<id>_<secret>`: the id finds the row, the secret proves possession. */
export function formatApiKey(id: string, secret: string): string {
  return `${API_KEY_PREFIX}${id}_${secret}`;
}

/** The id and secret of a presented key, or null when it is not shaped like one. */
export function parseApiKey(presented: string): { id: string; secret: string } | null {
  const m = API_KEY.exec(presented);
  return m?.[1] && m[2] ? { id: m[1], secret: m[2] } : null;
}

/**
 * What the store keeps of a secret. A plain sha256 is right here, unlike for passwords: the
 * secret is 256 random bits, so there is nothing to guess from a dictionary and no slow hash
 * is needed, and a fast one keeps every API-key request cheap.
 */
export function apiKeySecretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function apiKeySecretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(apiKeySecretHash(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
