import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problem } from '@aex/shared';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { silentLogger } from '@aex/shared/ports/log';
import { startTestOidcProvider, type TestOidcProvider } from '../../testing/oidc-provider.ts';
import { createEdge, type Edge, parseEdgeConfig } from '../mod.ts';

const PUBLIC_URL = 'http://aex.test';
const CALLBACK = `${PUBLIC_URL}/auth/callback`;

/** A browser's part of the flow: a cookie jar, and redirects left to the test. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly edge: Edge) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has('cookie')) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    const res = await this.edge.fetch(new Request(`${PUBLIC_URL}${path}`, { ...init, headers }));
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** `/auth/login` → the provider → the callback URL the provider sends the browser to. */
  async signInAtProvider(returnTo?: string): Promise<URL> {
    const login = await this.request(
      `/auth/login${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`,
    );
    expect(login.status).toBe(302);
    const authorize = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' });
    expect(authorize.status).toBe(302);
    return new URL(authorize.headers.get('location') ?? '');
  }

  async signIn(returnTo?: string): Promise<Response> {
    const back = await this.signInAtProvider(returnTo);
    return this.request(back.pathname + back.search);
  }
}

async function problemOf(res: Response): Promise<Problem> {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return Problem.parse(await res.json());
}

describe('web login: authorization code + PKCE against an OIDC provider', () => {
  let dir: string;
  let provider: TestOidcProvider;
  let core: ReturnType<typeof Bun.serve>;
  let edge: Edge;
  const seenByCore: Array<{ method: string; path: string; authorization: string | null }> = [];
  const seenCookies: Array<string | null> = [];

  const startEdge = (publicUrl = PUBLIC_URL, issuer = provider.issuer) =>
    createEdge(
      parseEdgeConfig({
        AEX_DATA_DIR: dir,
        AEX_WEB_DIR: dir,
        AEX_URL_SIGNING_KEY: '7e'.repeat(32),
        AEX_OIDC_ISSUER: issuer,
        AEX_OIDC_CLIENT_ID: 'aex-web',
        AEX_PUBLIC_URL: publicUrl,
        AEX_RATE_LIMIT: 'off',
        CORE_URL: `http://127.0.0.1:${core.port}`,
      }),
      { log: silentLogger(), blobs: createDiskBlobStore({ root: join(dir, 'blobs') }) },
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aex-web-login-'));
    provider = await startTestOidcProvider({ clientId: 'aex-web', redirectUri: CALLBACK });
    // Stands in for core: says which credentials reached it.
    core = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(request) {
        const url = new URL(request.url);
        const authorization = request.headers.get('authorization');
        seenByCore.push({ method: request.method, path: url.pathname, authorization });
        seenCookies.push(request.headers.get('cookie'));
        return Response.json({ authorization });
      },
    });
    edge = startEdge();
  });
  afterAll(async () => {
    await edge?.close();
    await core?.stop(true);
    await provider?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the whole flow: login → provider → callback → a session the API accepts', async () => {
    const browser = new Browser(edge);
    const login = await browser.request('/auth/login?returnTo=%2Falbums%2F7%3Fview%3Dgrid');
    expect(login.status).toBe(302);
    expect(login.headers.get('cache-control')).toBe('no-store');
    const to = new URL(login.headers.get('location') ?? '');
    expect(to.origin + to.pathname).toBe(`${provider.issuer}/authorize`);
    // The authorization endpoint's own query (a tenant here) is kept.
    expect(to.searchParams.get('tenant')).toBe('t1');
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'aex-web',
      redirect_uri: CALLBACK,
      scope: 'openid profile email',
      code_challenge_method: 'S256',
    });
    expect(to.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const loginCookie = login.headers.getSetCookie()[0] ?? '';
    expect(loginCookie).toStartWith('aex-login=v1.');
    expect(loginCookie).toContain('HttpOnly');
    expect(loginCookie).toContain('SameSite=Lax');
    expect(loginCookie).toContain('Path=/');
    expect(loginCookie).toContain('Max-Age=600');
    // Sealed: nothing of the state, nonce or verifier can be read from it.
    expect(loginCookie).not.toContain(to.searchParams.get('state') ?? '-');

    const authorize = await fetch(to, { redirect: 'manual' });
    const back = new URL(authorize.headers.get('location') ?? '');
    const callback = await browser.request(back.pathname + back.search);
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/albums/7?view=grid');
    expect(callback.headers.get('cache-control')).toBe('no-store');
    expect(browser.cookies.has('aex-login')).toBe(false);
    expect(browser.cookies.get('aex-session')).toStartWith('v1.');
    const session = callback.headers.getSetCookie().find((c) => c.startsWith('aex-session='));
    expect(session).toContain('HttpOnly');
    expect(session).toContain('SameSite=Lax');
    expect(session).not.toContain('Secure');
    const maxAge = Number(/Max-Age=(\d+)/.exec(session ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(250);
    expect(maxAge).toBeLessThanOrEqual(300);
    // The provider checked the verifier against the challenge: it issued a token.
    const token = provider.accessTokens.at(-1);
    expect(token).toBeString();

    const me = await browser.request('/api/v1/auth/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ authorization: `Bearer ${token}` });
    // The same token works for a write from AEX's own page.
    const write = await browser.request('/api/v1/albums', {
      method: 'POST',
      headers: { origin: PUBLIC_URL, 'content-type': 'application/json' },
      body: '{"name":"trip"}',
    });
    expect(await write.json()).toEqual({ authorization: `Bearer ${token}` });
    // Credentials the client sends itself win over the cookie.
    const explicit = await browser.request('/api/v1/auth/me', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await explicit.json()).toEqual({ authorization: `Bearer ${token}` });
  });

  test('a cross-site write does not get the session; an altered session cookie is dropped', async () => {
    const browser = new Browser(edge);
    expect((await browser.signIn()).status).toBe(303);
    const crossSite: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'http://aex.test.evil.example' },
      { 'sec-fetch-site': 'same-site' },
      {},
    ];
    for (const headers of crossSite) {
      const res = await browser.request('/api/v1/albums', { method: 'POST', headers, body: '{}' });
      expect({
        headers,
        authorization: ((await res.json()) as { authorization: unknown }).authorization,
      }).toEqual({
        headers,
        authorization: null,
      });
    }
    const sameOrigin = await browser.request('/api/v1/albums', {
      method: 'DELETE',
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(((await sameOrigin.json()) as { authorization: string }).authorization).toStartWith(
      'Bearer ',
    );
    const sealed = browser.cookies.get('aex-session') ?? '';
    browser.cookies.set('aex-session', `${sealed.slice(0, -4)}AAAA`);
    const altered = await browser.request('/api/v1/auth/me');
    expect(((await altered.json()) as { authorization: unknown }).authorization).toBeNull();
    expect(altered.headers.getSetCookie().join()).toContain('aex-session=; Max-Age=0');
    expect(browser.cookies.has('aex-session')).toBe(false);
  });

  test('an access token too big for one cookie is split over several, and still works', async () => {
    const browser = new Browser(edge);
    provider.alterNextTokens('huge');
    expect((await browser.signIn()).status).toBe(303);
    const token = provider.accessTokens.at(-1) ?? '';
    expect(token.length).toBeGreaterThan(7000);
    expect(browser.cookies.has('aex-session.1')).toBe(true);
    for (const value of browser.cookies.values()) expect(value.length).toBeLessThan(4000);
    const me = await browser.request('/api/v1/auth/me', {
      headers: {
        cookie: `${[...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ')}; theme=dark`,
      },
    });
    expect(await me.json()).toEqual({ authorization: `Bearer ${token}` });
    // Core gets the token once, as the bearer header; other cookies pass.
    expect(seenCookies.at(-1)).toBe('theme=dark');
    // A later, smaller session drops the chunks it does not need.
    expect((await browser.signIn()).status).toBe(303);
    expect(browser.cookies.has('aex-session.1')).toBe(false);
    const again = await browser.request('/api/v1/auth/me');
    expect(await again.json()).toEqual({ authorization: `Bearer ${provider.accessTokens.at(-1)}` });
  });

  test('an access token too big for the cookies → a problem saying what to change', async () => {
    const browser = new Browser(edge);
    provider.alterNextTokens('too-huge');
    const res = await browser.signIn();
    expect((provider.accessTokens.at(-1) ?? '').length).toBeGreaterThan(12_000);
    expect(res.status).toBe(500);
    expect((await problemOf(res)).detail).toContain('too large to keep');
    expect(browser.cookies.has('aex-session')).toBe(false);
  });

  test('over https the cookies are __Host- and Secure', async () => {
    const secure = startEdge('https://aex.test');
    try {
      const login = await secure.fetch(new Request('https://aex.test/auth/login'));
      expect(login.status).toBe(302);
      const cookie = login.headers.getSetCookie()[0] ?? '';
      expect(cookie).toStartWith('__Host-aex-login=v1.');
      expect(cookie).toContain('Secure');
      expect(cookie).toContain('Path=/');
      expect(cookie).not.toContain('Domain');
      const to = new URL(login.headers.get('location') ?? '');
      expect(to.searchParams.get('redirect_uri')).toBe('https://aex.test/auth/callback');
    } finally {
      await secure.close();
    }
  });

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

  test('logout: only from our pages; ends the session here and at the provider', async () => {
    const browser = new Browser(edge);
    expect((await browser.signIn()).status).toBe(303);
    const crossSite = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect(browser.cookies.has('aex-session')).toBe(true);

    const res = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { origin: PUBLIC_URL },
    });
    expect(res.status).toBe(303);
    const next = new URL(res.headers.get('location') ?? '');
    expect(next.origin + next.pathname).toBe(`${provider.issuer}/logout`);
    expect(next.searchParams.get('client_id')).toBe('aex-web');
    expect(next.searchParams.get('post_logout_redirect_uri')).toBe(`${PUBLIC_URL}/`);
    expect(browser.cookies.has('aex-session')).toBe(false);
    const after = await browser.request('/api/v1/auth/me');
    expect(((await after.json()) as { authorization: unknown }).authorization).toBeNull();

    expect((await browser.signIn()).status).toBe(303);
    const json = await browser.request('/auth/logout', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin', accept: 'application/json' },
    });
    expect(json.status).toBe(200);
    expect(((await json.json()) as { next: string }).next).toStartWith(`${provider.issuer}/logout`);
  });

  test('without AEX_OIDC_ISSUER there is no web login', async () => {
    const plain = createEdge(
      parseEdgeConfig({
        AEX_DATA_DIR: dir,
        AEX_WEB_DIR: join(dir, 'none'),
        AEX_URL_SIGNING_KEY: '7e'.repeat(32),
        CORE_URL: `http://127.0.0.1:${core.port}`,
      }),
      { log: silentLogger(), blobs: createDiskBlobStore({ root: join(dir, 'blobs') }) },
    );
    try {
      const res = await plain.fetch(new Request(`${PUBLIC_URL}/auth/login`));
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
