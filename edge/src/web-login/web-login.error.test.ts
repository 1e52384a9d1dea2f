import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { TestOidcProvider } from '../../testing/oidc-provider.ts';
import type { Edge } from '../mod.ts';
import {
  Browser,
  PUBLIC_URL,
  problemOf,
  startWebLoginFixture,
  type WebLoginFixture,
} from './testing.ts';

describe('web login: what goes wrong, and what each failure says', () => {
  let fixture: WebLoginFixture;
  let provider: TestOidcProvider;
  let edge: Edge;
  let startEdge: WebLoginFixture['startEdge'];

  beforeAll(async () => {
    fixture = await startWebLoginFixture();
    ({ provider, edge, startEdge } = fixture);
  });
  afterAll(() => fixture?.stop());

  test('wrong state → 400, and the sign-in can still finish with the right one', async () => {
    const browser = new Browser(edge);
    const back = await browser.signInAtProvider();
    const forged = new URLSearchParams(back.search);
    forged.set('state', 'x'.repeat(43));
    const res = await browser.request(`/auth/callback?${forged}`);
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem.code).toBe('invalid_input');
    expect(problem.detail).toContain('state differs');
    const noState = new URLSearchParams(back.search);
    noState.delete('state');
    expect((await browser.request(`/auth/callback?${noState}`)).status).toBe(400);
    const ok = await browser.request(back.pathname + back.search);
    expect(ok.status).toBe(303);
  });

  test('no login cookie (another browser, expired, or altered) → 400', async () => {
    const started = new Browser(edge);
    const back = await started.signInAtProvider();
    const stranger = new Browser(edge);
    const res = await stranger.request(back.pathname + back.search);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toContain('Start again at /auth/login');
    const sealed = started.cookies.get('aex-login') ?? '';
    for (const value of [
      `${sealed.slice(0, 20)}B${sealed.slice(21)}`,
      'v1.',
      'garbage',
      'x'.repeat(40_000),
    ]) {
      const altered = await started.request(back.pathname + back.search, {
        headers: { cookie: `aex-login=${value}` },
      });
      expect(altered.status).toBe(400);
    }
  });

  test("a code bound to another sign-in's challenge is refused by the provider (PKCE)", async () => {
    const browser = new Browser(edge);
    const first = await browser.signInAtProvider();
    // A second sign-in in the same browser replaces the login cookie (new state, verifier).
    const second = await browser.signInAtProvider();
    // The first code with the second state: the state matches, the verifier does not.
    const injected = new URLSearchParams({
      code: first.searchParams.get('code') ?? '',
      state: second.searchParams.get('state') ?? '',
    });
    const refusalsBefore = provider.refusals.length;
    const res = await browser.request(`/auth/callback?${injected}`);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toContain('did not accept the sign-in code');
    expect(provider.refusals.slice(refusalsBefore)).toEqual([
      'code_verifier does not match the code_challenge',
    ]);
  });

  test('a code used twice → 400', async () => {
    const browser = new Browser(edge);
    const back = await browser.signInAtProvider();
    expect((await browser.request(back.pathname + back.search)).status).toBe(303);
    // Replayed with a fresh login cookie of the same state is impossible; replay the whole.
    const again = new Browser(edge);
    const fresh = await again.signInAtProvider();
    const replay = new URLSearchParams({
      code: back.searchParams.get('code') ?? '',
      state: fresh.searchParams.get('state') ?? '',
    });
    const res = await again.request(`/auth/callback?${replay}`);
    expect(res.status).toBe(400);
  });

  test('provider errors are clear problems', async () => {
    const cases: Array<[string, string | undefined, number, string]> = [
      ['access_denied', 'The user cancelled', 403, 'access_denied: The user cancelled'],
      ['temporarily_unavailable', undefined, 503, 'Retry in a moment'],
      ['server_error', undefined, 503, 'server_error'],
      ['invalid_scope', '<script>alert(1)</script>\u0007', 400, 'invalid_scope'],
    ];
    for (const [error, description, status, says] of cases) {
      provider.failNextAuthorize(error, description);
      const browser = new Browser(edge);
      const back = await browser.signInAtProvider();
      expect(back.searchParams.get('error')).toBe(error);
      const res = await browser.request(back.pathname + back.search);
      expect({ error, status: res.status }).toEqual({ error, status });
      const problem = await problemOf(res);
      expect(problem.detail).toContain(says);
      expect(problem.detail).not.toContain('\u0007');
      // The sign-in is over: its login cookie is gone.
      expect(browser.cookies.has('aex-login')).toBe(false);
    }
  });

  test('an answer naming another issuer (RFC 9207) → 400', async () => {
    const browser = new Browser(edge);
    const back = await browser.signInAtProvider();
    back.searchParams.set('iss', 'https://attacker.example');
    const res = await browser.request(back.pathname + back.search);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toContain('another provider');
  });

  test('an ID token with another nonce → 401; access tokens AEX does not accept → 500 saying why', async () => {
    const browser = new Browser(edge);
    provider.alterNextTokens('wrong-nonce');
    const nonce = await browser.signIn();
    expect(nonce.status).toBe(401);
    expect((await problemOf(nonce)).detail).toContain('nonce');
    expect(browser.cookies.has('aex-session')).toBe(false);

    provider.alterNextTokens('wrong-audience');
    const audience = await browser.signIn();
    expect(audience.status).toBe(500);
    expect((await problemOf(audience)).detail).toContain('wrong-audience');
    expect(browser.cookies.has('aex-session')).toBe(false);

    provider.alterNextTokens('no-id-token');
    const noId = await browser.signIn();
    expect(noId.status).toBe(503);
    expect(browser.cookies.has('aex-session')).toBe(false);
  });

  test('a provider that is down → 503 with Retry-After', async () => {
    const down = startEdge(PUBLIC_URL, 'http://127.0.0.1:9');
    try {
      const res = await down.fetch(new Request(`${PUBLIC_URL}/auth/login`));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect((await problemOf(res)).code).toBe('unavailable');
    } finally {
      await down.close();
    }
  });
});
