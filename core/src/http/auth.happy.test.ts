import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Problem, TokenResponse } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import {
  ADAPTER_SETS,
  type CoreHarness,
  HARNESS_ADMIN,
  startCoreHarness,
} from '../testing/core-harness.ts';

const PUBLIC_URL = 'https://photos.example.org';

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`built-in issuer on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      beforeAll(async () => {
        // A trailing slash is dropped: the issuer is the URL without it.
        h = await startCoreHarness(set.kind, { AEX_PUBLIC_URL: `${PUBLIC_URL}/` });
      }, 60_000);
      afterAll(async () => {
        await h?.stop();
      });

      const post = (path: string, body: unknown) =>
        h.request(path, {
          as: 'anonymous',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const login = async (
        email: string = HARNESS_ADMIN.email,
        password = HARNESS_ADMIN.password,
      ) => {
        const res = await post('/api/v1/auth/login', { email, password });
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-control')).toBe('no-store');
        return TokenResponse.parse(await res.json());
      };
      const servedKeys = async () => {
        const res = await h.request('/.well-known/jwks.json', { as: 'anonymous' });
        expect(res.status).toBe(200);
        return (await res.json()) as JSONWebKeySet;
      };
      const expectUnauthenticated = async (res: Response) => {
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(Problem.parse(await res.json()).code).toBe('unauthenticated');
      };

      test('discovery names the issuer and endpoints under AEX_PUBLIC_URL', async () => {
        const res = await h.request('/.well-known/openid-configuration', { as: 'anonymous' });
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-control')).toBe('public, max-age=300');
        expect(await res.json()).toMatchObject({
          issuer: PUBLIC_URL,
          jwks_uri: `${PUBLIC_URL}/.well-known/jwks.json`,
          token_endpoint: `${PUBLIC_URL}/api/v1/auth/login`,
          id_token_signing_alg_values_supported: ['ES256'],
          subject_types_supported: ['public'],
        });
      });

      test('the JWKS holds one public ES256 key, cacheable for five minutes', async () => {
        const res = await h.request('/.well-known/jwks.json', { as: 'anonymous' });
        expect(res.headers.get('cache-control')).toBe('public, max-age=300');
        const { keys } = (await res.json()) as JSONWebKeySet;
        expect(keys).toHaveLength(1);
        expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
        expect(keys[0]?.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(keys[0]).not.toHaveProperty('d');
      });

      test('login answers an access token that verifies against the served JWKS', async () => {
        const tokens = await login();
        expect(tokens.tokenType).toBe('Bearer');
        expect(tokens.expiresIn).toBe(900);
        expect(tokens.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const keys = await servedKeys();
        const { payload, protectedHeader } = await jwtVerify(
          tokens.accessToken,
          createLocalJWKSet(keys),
          { issuer: PUBLIC_URL, audience: 'aex', algorithms: ['ES256'] },
        );
        expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'JWT', kid: keys.keys[0]?.kid });
        expect(payload).toMatchObject({
          iss: PUBLIC_URL,
          aud: 'aex',
          email: HARNESS_ADMIN.email,
          name: 'Administrator',
          realm_access: { roles: ['admin'] },
        });
        expect(payload.sub).toMatch(/^[0-9a-f-]{36}$/);
        expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
        expect(payload.nbf).toBe(payload.iat as number);
        expect((payload.exp as number) - (payload.iat as number)).toBe(900);
        expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(60);
        // Two logins are two sessions with distinct tokens.
        const again = await login();
        expect(again.refreshToken).not.toBe(tokens.refreshToken);
        expect(decodeProtectedHeader(again.accessToken).kid).toBe(protectedHeader.kid);
      });

      test('emails are matched whatever their letter case', async () => {
        await login(HARNESS_ADMIN.email.toUpperCase());
        await login(`  ${HARNESS_ADMIN.email}  `);
      });

      test('refresh rotates: the new token works, the spent one ends the session', async () => {
        const first = await login();
        const res = await post('/api/v1/auth/refresh', { refreshToken: first.refreshToken });
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-control')).toBe('no-store');
        const second = TokenResponse.parse(await res.json());
        expect(second.refreshToken).not.toBe(first.refreshToken);
        await jwtVerify(second.accessToken, createLocalJWKSet(await servedKeys()), {
          issuer: PUBLIC_URL,
          audience: 'aex',
        });
        const third = TokenResponse.parse(
          await (await post('/api/v1/auth/refresh', { refreshToken: second.refreshToken })).json(),
        );
        // The first token, spent, comes back: whoever holds it copied it. The whole family ends.
        await expectUnauthenticated(
          await post('/api/v1/auth/refresh', { refreshToken: first.refreshToken }),
        );
        await expectUnauthenticated(
          await post('/api/v1/auth/refresh', { refreshToken: third.refreshToken }),
        );
        // Another session of the same user is untouched.
        const other = await login();
        expect(
          (await post('/api/v1/auth/refresh', { refreshToken: other.refreshToken })).status,
        ).toBe(200);
      });

      test('logout ends the session, and is idempotent', async () => {
        const tokens = await login();
        const res = await post('/api/v1/auth/logout', { refreshToken: tokens.refreshToken });
        expect(res.status).toBe(204);
        await expectUnauthenticated(
          await post('/api/v1/auth/refresh', { refreshToken: tokens.refreshToken }),
        );
        expect(
          (await post('/api/v1/auth/logout', { refreshToken: tokens.refreshToken })).status,
        ).toBe(204);
        // A token never issued: the same 204, nothing learned.
        expect((await post('/api/v1/auth/logout', { refreshToken: 'A'.repeat(43) })).status).toBe(
          204,
        );
      });

      test('me: 401 without credentials; the principal of a token or an API key', async () => {
        const anonymous = await h.request('/api/v1/auth/me', { as: 'anonymous' });
        expect(anonymous.headers.get('www-authenticate')).toStartWith('Bearer');
        await expectUnauthenticated(anonymous);

        const tokens = await login();
        const { payload } = await jwtVerify(
          tokens.accessToken,
          createLocalJWKSet(await servedKeys()),
        );
        const byToken = await h.request('/api/v1/auth/me', {
          headers: { authorization: `Bearer ${tokens.accessToken}` },
        });
        expect(byToken.status).toBe(200);
        expect(byToken.headers.get('cache-control')).toContain('no-store');
        expect(await byToken.json()).toEqual({
          subject: payload.sub as string,
          role: 'admin',
          method: 'token',
          displayName: expect.any(String),
        });

        const key = await h.credentials.apiKey('editor');
        const ways: Array<Record<string, string>> = [
          { authorization: `Bearer ${key}` },
          { 'x-api-key': key },
        ];
        for (const headers of ways) {
          const byKey = await h.request('/api/v1/auth/me', { headers });
          expect(byKey.status).toBe(200);
          expect(await byKey.json()).toMatchObject({
            subject: `apikey:${key.split('_')[1]}`,
            role: 'editor',
            method: 'api-key',
            displayName: 'harness editor',
          });
        }
      });

      test('rotation: the new key is published first; old tokens keep working', async () => {
        const kidOf = (token: string) => decodeProtectedHeader(token).kid;
        const me = (token: string) =>
          h.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } });
        const servedKids = async () => new Set((await servedKeys()).keys.map((k) => k.kid));
        const before = await login();
        const first = kidOf(before.accessToken);
        // The default rotation publishes the key now and signs with it ten minutes later.
        const ahead = await h.core.identity.issuer.rotateSigningKey();
        expect(await servedKids()).toEqual(new Set([first, ahead]));
        expect(kidOf((await login()).accessToken)).toBe(first);
        // A leaked key is replaced at once.
        const now = await h.core.identity.issuer.rotateSigningKey({ activateInMs: 0 });
        expect(await servedKids()).toEqual(new Set([first, ahead, now]));
        const after = await login();
        expect(kidOf(after.accessToken)).toBe(now);
        expect((await me(before.accessToken)).status).toBe(200);
        // Core's verifier reads the keys again for an unknown kid at most once a second.
        await Bun.sleep(1100);
        expect((await me(after.accessToken)).status).toBe(200);
        const keys = createLocalJWKSet(await servedKeys());
        for (const token of [before.accessToken, after.accessToken]) {
          await jwtVerify(token, keys, { issuer: PUBLIC_URL, audience: 'aex' });
        }
      });

      test('the routes are in the OpenAPI document', async () => {
        const doc = (await (await h.request('/api/v1/openapi.json')).json()) as {
          paths: Record<string, unknown>;
        };
        for (const path of [
          '/api/v1/auth/login',
          '/api/v1/auth/refresh',
          '/api/v1/auth/logout',
          '/api/v1/auth/me',
          '/.well-known/jwks.json',
          '/.well-known/openid-configuration',
          '/api/v1/admin/users',
          '/api/v1/admin/users/{id}',
          '/api/v1/admin/api-keys',
          '/api/v1/admin/api-keys/{id}',
        ]) {
          expect(doc.paths).toHaveProperty([path]);
        }
      });
    },
  );
}
