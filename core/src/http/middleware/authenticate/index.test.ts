import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type AexEnv, problemErrorHandler, requestContext } from '@aex/shared/http';
import { createTokenVerifier } from '@aex/shared/ports/identity/mod';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { startTestIssuer, type TestIssuer } from '@aex/shared/testing/oidc-issuer';
import { Hono } from 'hono';
import { authenticate } from './index.ts';

// The middleware on a real Hono app with a real issuer (keys, JWKS over HTTP). API keys are
// checked by core's identity service against the database: their cases run against real core
// in authorization.security.test.ts; here every API key is refused.

let issuer: TestIssuer;
const log = capturingLogger();
const noApiKeys = { verify: async () => null };

function app(
  tokens = createTokenVerifier({ issuer: issuer.issuer, audience: 'aex', jwksUrl: issuer.jwksUrl }),
) {
  const hono = new Hono<AexEnv>();
  hono.use(requestContext({ log }));
  hono.onError(problemErrorHandler());
  hono.use(authenticate({ tokens, apiKeys: noApiKeys }));
  hono.get('/who', (c) => c.json(c.get('principal')));
  return hono;
}

beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.stop());

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('authenticate', () => {
  test('no credential: anonymous', async () => {
    const res = await app().request('/who');
    expect(await res.json()).toEqual({ subject: 'anonymous', role: null, method: 'anonymous' });
  });

  test('a valid token: its principal', async () => {
    const res = await app().request('/who', bearer(await issuer.tokenFor('editor')));
    expect(await res.json()).toEqual({
      subject: 'test-editor',
      role: 'editor',
      method: 'token',
      displayName: 'Test editor',
    });
  });

  test('the scheme is case-insensitive (RFC 7235)', async () => {
    const token = await issuer.tokenFor('reader');
    const res = await app().request('/who', { headers: { authorization: `bearer  ${token}` } });
    expect(res.status).toBe(200);
  });

  test('an expired token is a 401 that says to sign in again; the reason is logged, not shown', async () => {
    const token = await issuer.sign({ exp: Math.floor(Date.now() / 1000) - 3600 });
    const res = await app().request('/who', bearer(token));
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="aex", error="invalid_token"');
    const body = (await res.json()) as { code: string; detail: string; requestId: string };
    expect(body.code).toBe('unauthenticated');
    expect(body.detail).toContain('Sign in again');
    expect(body.detail).not.toContain('timestamp');
    const line = log.lines.find(
      (l) => l.fields.requestId === body.requestId && l.msg === 'bearer token rejected',
    );
    expect(line?.fields.reason).toBe('expired');
  });

  test.each([
    ['Basic credentials', 'Basic YWRtaW46YWRtaW4='],
    ['a bare token without a scheme', 'eyJhbGciOiJFUzI1NiJ9.e30.sig'],
    ['Bearer with nothing after it', 'Bearer'],
    ['a token with spaces', 'Bearer abc def'],
    ['a token of garbage', 'Bearer !!!'],
    ['a token far too long', `Bearer ${'a'.repeat(20_000)}`],
  ])('%s is a 401, never anonymous', async (_name, authorization) => {
    const res = await app().request('/who', { headers: { authorization } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  test('an API key that is not valid is a 401, by either header', async () => {
    const key = `aex_${'0'.repeat(32)}_secret`;
    for (const headers of [{ authorization: `Bearer ${key}` }, { 'x-api-key': key }] as Record<
      string,
      string
    >[]) {
      const res = await app().request('/who', { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { detail: string }).detail).toContain('API key');
    }
  });

  test('X-Api-Key holding something else, or two credentials at once, is a 401', async () => {
    const token = await issuer.tokenFor('admin');
    const notKey = await app().request('/who', { headers: { 'x-api-key': token } });
    expect(notKey.status).toBe(401);
    const both = await app().request('/who', {
      headers: { authorization: `Bearer ${token}`, 'x-api-key': 'aex_x_y' },
    });
    expect(both.status).toBe(401);
    expect(((await both.json()) as { detail: string }).detail).toContain('not both');
  });

  test("the issuer's keys unreachable: 503 with Retry-After, not an invalid token", async () => {
    issuer.setDown(true);
    try {
      const fresh = createTokenVerifier({
        issuer: issuer.issuer,
        audience: 'aex',
        jwksUrl: issuer.jwksUrl,
      });
      const res = await app(fresh).request('/who', bearer(await issuer.tokenFor('admin')));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { code: string }).code).toBe('unavailable');
    } finally {
      issuer.setDown(false);
    }
  });

  test('misconfiguration throws when the middleware is made', () => {
    expect(() => authenticate({} as never)).toThrow(/required/);
  });
});
