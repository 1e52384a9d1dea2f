import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { base64url, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import { startTestIssuer, type TestIssuer } from '../../testing/oidc-issuer.ts';
import { TokenRejectedError, type TokenRejectionReason } from './errors.ts';
import { createTokenVerifier, MAX_TOKEN_LENGTH, type TokenVerifier } from './token-verifier.ts';

let issuer: TestIssuer;
let verifier: TokenVerifier;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  issuer = await startTestIssuer({ algorithms: ['RS256', 'ES256', 'EdDSA'] });
  verifier = createTokenVerifier({
    issuer: issuer.issuer,
    audience: 'aex',
    jwksUrl: issuer.jwksUrl,
  });
});
afterAll(() => issuer.stop());

async function rejectionOf(token: string, by = verifier): Promise<TokenRejectionReason> {
  const err = await by.verify(token).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenRejectedError);
  return (err as TokenRejectedError).reason;
}

/** A compact JWS with any header, payload and signature. */
function compact(header: object, payload: object, signature = ''): string {
  const part = (v: object) => base64url.encode(JSON.stringify(v));
  return `${part(header)}.${part(payload)}.${signature}`;
}

describe('valid tokens', () => {
  test.each(['RS256', 'ES256', 'EdDSA'] as const)('%s: the principal of the token', async (alg) => {
    const token = await issuer.sign(
      { sub: 'u-1', name: 'Ada', realm_access: { roles: ['editor'] } },
      { alg },
    );
    expect(await verifier.verify(token)).toEqual({
      subject: 'u-1',
      role: 'editor',
      method: 'token',
      displayName: 'Ada',
    });
  });

  test('an audience array holding ours is accepted', async () => {
    const token = await issuer.sign({ aud: ['account', 'aex'] });
    expect((await verifier.verify(token)).subject).toBe('test-user');
  });

  test('a token without roles is authenticated with role null', async () => {
    const principal = await verifier.verify(await issuer.sign({ sub: 'u-2' }));
    expect(principal).toMatchObject({ subject: 'u-2', role: null, method: 'token' });
  });
});

describe('time claims, with the clock skew', () => {
  test('expired beyond the skew', async () => {
    const token = await issuer.sign({ iat: now() - 600, nbf: now() - 600, exp: now() - 60 });
    expect(await rejectionOf(token)).toBe('expired');
  });

  test('expired within the skew is still accepted', async () => {
    const token = await issuer.sign({ iat: now() - 600, nbf: now() - 600, exp: now() - 10 });
    expect((await verifier.verify(token)).subject).toBe('test-user');
  });

  test('nbf in the future beyond the skew', async () => {
    const token = await issuer.sign({ nbf: now() + 120, exp: now() + 600 });
    expect(await rejectionOf(token)).toBe('not-yet-valid');
  });

  test('nbf in the future within the skew is accepted', async () => {
    const token = await issuer.sign({ nbf: now() + 10, iat: now() + 10 });
    expect((await verifier.verify(token)).subject).toBe('test-user');
  });

  test('a smaller skew is honoured', async () => {
    const strict = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      jwksUrl: issuer.jwksUrl,
      clockSkewSec: 0,
    });
    expect(await rejectionOf(await issuer.sign({ exp: now() - 1 }), strict)).toBe('expired');
    expect(await rejectionOf(await issuer.sign({ nbf: now() + 5 }), strict)).toBe('not-yet-valid');
  });

  test('a token without exp never expires, so it is refused', async () => {
    expect(await rejectionOf(await issuer.sign({ exp: undefined }))).toBe('malformed');
  });
});

describe('issuer and audience', () => {
  test('wrong iss', async () => {
    const token = await issuer.sign({ iss: 'https://evil.example/realms/aex' });
    expect(await rejectionOf(token)).toBe('wrong-issuer');
  });

  test('wrong aud', async () => {
    expect(await rejectionOf(await issuer.sign({ aud: 'another-app' }))).toBe('wrong-audience');
  });

  test('no aud', async () => {
    expect(await rejectionOf(await issuer.sign({ aud: undefined }))).toBe('malformed');
  });

  test('no sub', async () => {
    expect(await rejectionOf(await issuer.sign({ sub: undefined }))).toBe('malformed');
  });
});

describe('algorithms and signatures', () => {
  const adminClaims = () => ({
    iss: issuer.issuer,
    aud: 'aex',
    sub: 'attacker',
    exp: now() + 300,
    realm_access: { roles: ['admin'] },
  });

  test('alg: none is refused', async () => {
    const token = compact({ alg: 'none', typ: 'JWT' }, adminClaims());
    expect(await rejectionOf(token)).toBe('algorithm-not-allowed');
  });

  test("HS256 signed with the issuer's RSA public key (algorithm confusion) is refused", async () => {
    const jwk = issuer.publicJwk('RS256');
    const pem = await exportSPKI(
      (await importJWK({ ...jwk, alg: 'RS256' }, 'RS256', { extractable: true })) as CryptoKey,
    );
    for (const secret of [pem, JSON.stringify(jwk)]) {
      const token = await new SignJWT(adminClaims())
        .setProtectedHeader({ alg: 'HS256', kid: jwk.kid })
        .sign(new TextEncoder().encode(secret));
      expect(await rejectionOf(token)).toBe('algorithm-not-allowed');
    }
  });

  test('a changed signature is refused', async () => {
    const [head, body, sig] = (await issuer.sign({}, { alg: 'ES256' })).split('.');
    const flipped = `${(sig as string).startsWith('A') ? 'B' : 'A'}${(sig as string).slice(1)}`;
    expect(await rejectionOf(`${head}.${body}.${flipped}`)).toBe('bad-signature');
  });

  test("a reader's signature over an admin's claims is refused", async () => {
    const [head, , sig] = (await issuer.tokenFor('reader')).split('.');
    const body = base64url.encode(JSON.stringify(adminClaims()));
    expect(await rejectionOf(`${head}.${body}.${sig}`)).toBe('bad-signature');
  });

  test("a token signed by another key under the issuer's kid is refused", async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(adminClaims())
      .setProtectedHeader({ alg: 'ES256', kid: issuer.publicJwk('ES256').kid })
      .sign(privateKey);
    expect(await rejectionOf(token)).toBe('bad-signature');
  });

  test('an algorithm left out of `algorithms` is refused', async () => {
    const esOnly = createTokenVerifier({
      issuer: issuer.issuer,
      audience: 'aex',
      jwksUrl: issuer.jwksUrl,
      algorithms: ['ES256'],
    });
    expect(await rejectionOf(await issuer.sign({}, { alg: 'RS256' }), esOnly)).toBe(
      'algorithm-not-allowed',
    );
  });

  test('symmetric algorithms cannot be configured', () => {
    expect(() =>
      createTokenVerifier({
        issuer: issuer.issuer,
        audience: 'aex',
        jwksUrl: issuer.jwksUrl,
        algorithms: ['HS256' as never],
      }),
    ).toThrow(/only asymmetric/);
  });

  test.each([
    ['empty', ''],
    ['one part', 'abc'],
    ['not base64', '!!.??.##'],
    ['a header that is not JSON', `${base64url.encode('nope')}.e30.sig`],
    ['oversized', `${'a'.repeat(MAX_TOKEN_LENGTH)}.b.c`],
  ])('garbage (%s) is malformed', async (_name, token) => {
    expect(await rejectionOf(token)).toBe('malformed');
  });
});
