import { describe, expect, test } from 'bun:test';
import {
  apiKeySecretHash,
  apiKeySecretMatches,
  formatApiKey,
  newApiKeySecret,
  parseApiKey,
} from './api-key-format.ts';

describe('API key format', () => {
  const id = '01a20fb7-44be-7d50-b2ed-c916f2b73a51';

  test('aex_<id>_<secret> round-trips, underscores in the secret included', () => {
    const secret = `ab_${'c'.repeat(40)}`;
    expect(parseApiKey(formatApiKey(id, secret))).toEqual({ id, secret });
    const fresh = newApiKeySecret();
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(formatApiKey(id, fresh))).toEqual({ id, secret: fresh });
  });

  test.each([
    '',
    'aex_',
    `aex_${id}`,
    `aex_${id}_`,
    `aex_${id}_${'a'.repeat(42)}`,
    `aex_${id}_${'a'.repeat(44)}`,
    `AEX_${id}_${'a'.repeat(43)}`,
    `aex_${id.toUpperCase()}_${'a'.repeat(43)}`,
    `aex_not-an-id_${'a'.repeat(43)}`,
    `aex_${id}_${'a'.repeat(42)}=`,
    ` aex_${id}_${'a'.repeat(43)}`,
  ])('%p is not a key', (presented) => {
    expect(parseApiKey(presented)).toBeNull();
  });

  test('the stored sha256 matches its secret only', () => {
    const secret = newApiKeySecret();
    const stored = apiKeySecretHash(secret);
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeySecretMatches(secret, stored)).toBe(true);
    expect(apiKeySecretMatches(newApiKeySecret(), stored)).toBe(false);
    expect(apiKeySecretMatches(secret, 'abc')).toBe(false);
  });
});
