import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Problem } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import type { Hono } from 'hono';
import { generateKeyPair, SignJWT } from 'jose';
import {
  API_KEYS,
  type SecurityFixture,
  startSecurityFixture,
} from '../testing/security-fixture.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('bearer tokens on /api/*', () => {
  let f: SecurityFixture;
  let app: Hono<AexEnv>;
  beforeAll(async () => {
    f = await startSecurityFixture();
    app = f.app();
  });
  afterAll(() => f?.stop());

  async function hostileTokens(): Promise<Array<[string, string]>> {
    const now = Math.floor(Date.now() / 1000);
    const jwk = f.issuer.publicJwk();
    const claims = {
      iss: f.issuer.issuer,
      aud: 'aex',
      sub: 'mallory',
      exp: now + 300,
      realm_access: { roles: ['admin'] },
    };
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
      .sign(other.privateKey);
    // The algorithm-confusion attack: the issuer's public key used as an HMAC secret.
    const hs256 = async (secret: Uint8Array) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: jwk.kid }).sign(secret);
    const signature = (await f.issuer.tokenFor('admin')).split('.')[2];
    return [
      ['forged (another key, same kid)', forged],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
      [
        'alg none with a real signature',
        `${b64({ alg: 'none', kid: jwk.kid })}.${b64(claims)}.${signature}`,
      ],
      [
        'HS256 with the public JWK as secret',
        await hs256(new TextEncoder().encode(JSON.stringify(jwk))),
      ],
      [
        'HS256 with the public key bytes as secret',
        await hs256(
          Buffer.concat([
            Buffer.from(jwk.x ?? '', 'base64url'),
            Buffer.from(jwk.y ?? '', 'base64url'),
          ]),
        ),
      ],
      ['expired', await f.issuer.tokenFor('admin', { exp: now - 3600 })],
      ['not yet valid', await f.issuer.tokenFor('admin', { nbf: now + 3600 })],
      ['wrong audience', await f.issuer.tokenFor('admin', { aud: 'someone-else' })],
      ['wrong issuer', await f.issuer.tokenFor('admin', { iss: 'https://evil.example' })],
      [
        'payload swapped under a real signature',
        `${(await f.issuer.tokenFor('reader')).split('.')[0]}.${b64(claims)}.${signature}`,
      ],
      ['not a JWT', 'hello'],
      ['oversized', 'a'.repeat(100_000)],
    ];
  }

  test('every forged, expired, alg-none or HS256 token is a 401 that never reaches core', async () => {
    const before = f.core.requests.api;
    for (const [name, token] of await hostileTokens()) {
      const res = await app.request('/api/v1/images', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="aex", error="invalid_token"');
      const body = Problem.parse(await res.json());
      expect(body.code).toBe('unauthenticated');
      // The reason is logged, never told: a forger learns nothing about which check failed.
      expect(body.detail).not.toMatch(/signature|audience|issuer|algorithm/i);
    }
    expect(f.core.requests.api).toBe(before);
    expect((await app.request('/healthz')).status).toBe(200);
  });

  test('a valid token, an API key, no credentials or another scheme go on to core, which decides', async () => {
    const token = await f.issuer.tokenFor('reader');
    for (const authorization of [
      `Bearer ${token}`,
      `Bearer ${API_KEYS.reader}`,
      `Bearer aex_unknown_x`,
      'Basic dTpw',
      undefined,
    ]) {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      const res = await app.request('/api/v1/images', { headers });
      expect({ authorization, status: res.status }).toEqual({ authorization, status: 200 });
      // Core gets the credential as sent, to check it itself.
      expect(((await res.json()) as { authorization: string | null }).authorization).toBe(
        authorization ?? null,
      );
    }
  });

  test('renewing a session works with a stale token still attached', async () => {
    const expired = await f.issuer.tokenFor('reader', {
      exp: Math.floor(Date.now() / 1000) - 3600,
    });
    for (const path of ['/api/v1/auth/refresh', '/api/v1/auth/login', '/api/v1/auth/logout']) {
      const res = await app.request(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${expired}` },
      });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });

  test('built-in issuer in the same process: its JWKS is read through core, its tokens accepted', async () => {
    const builtIn = f.app(
      { AEX_OIDC_ISSUER: '', AEX_PUBLIC_URL: 'https://aex.example/' },
      { inProcessCore: true },
    );
    const jwksBefore = f.core.requests.jwks;
    const good = await f.issuer.tokenFor('editor', { iss: 'https://aex.example' });
    const res = await builtIn.request('/api/v1/albums', {
      headers: { authorization: `Bearer ${good}` },
    });
    expect(res.status).toBe(200);
    expect(f.core.requests.jwks - jwksBefore).toBe(1);
    // The external issuer's own `iss` is not the built-in one's.
    const foreign = await f.issuer.tokenFor('editor');
    const refused = await builtIn.request('/api/v1/albums', {
      headers: { authorization: `Bearer ${foreign}` },
    });
    expect(refused.status).toBe(401);
  });

  test("when the issuer's keys are out of reach, the request goes on to core instead of failing", async () => {
    const cold = f.app();
    f.issuer.setDown(true);
    try {
      const token = await f.issuer.tokenFor('reader');
      const res = await cold.request('/api/v1/images', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    } finally {
      f.issuer.setDown(false);
    }
  });
});
