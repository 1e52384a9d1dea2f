import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { TokenRejectedError } from '@aex/shared/ports/identity/errors';
import { createTokenVerifier, type TokenVerifier } from '@aex/shared/ports/identity/token-verifier';
import { startTestIssuer, type TestIssuer } from '@aex/shared/testing/oidc-issuer';
import { cachedTokenVerifier } from './cached-token-verifier.ts';

describe('cachedTokenVerifier', () => {
  let issuer: TestIssuer;
  let inner: TokenVerifier;
  let calls = 0;
  beforeAll(async () => {
    issuer = await startTestIssuer();
    const real = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      jwksUrl: issuer.jwksUrl,
    });
    inner = {
      verify: (token) => {
        calls++;
        return real.verify(token);
      },
    };
  });
  afterAll(() => issuer?.stop());

  test('an accepted token is trusted until min(its exp, maxAge); a changed byte is checked afresh', async () => {
    let now = Date.now();
    const verifier = cachedTokenVerifier(inner, { maxAgeMs: 60_000, now: () => now });
    const token = await issuer.tokenFor('editor', { exp: Math.floor(now / 1000) + 30 });
    calls = 0;
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toEqual(first);
    expect(first.role).toBe('editor');
    expect(calls).toBe(1);
    await expect(verifier.verify(`${token.slice(0, -2)}AA`)).rejects.toBeInstanceOf(
      TokenRejectedError,
    );
    expect(calls).toBe(2);
    // Past the token's own exp (30 s) the cache no longer answers, though maxAge is 60 s.
    now += 31_000;
    await verifier.verify(token).catch(() => {});
    expect(calls).toBe(3);
  });

  test('refused tokens are never kept', async () => {
    const verifier = cachedTokenVerifier(inner);
    const expired = await issuer.tokenFor('admin', { exp: Math.floor(Date.now() / 1000) - 600 });
    calls = 0;
    for (let i = 0; i < 3; i++)
      await expect(verifier.verify(expired)).rejects.toBeInstanceOf(TokenRejectedError);
    expect(calls).toBe(3);
  });
});
