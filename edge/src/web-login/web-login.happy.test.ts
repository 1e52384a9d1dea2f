import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { TestOidcProvider } from '../../testing/oidc-provider.ts';
import type { Edge } from '../mod.ts';
import {
  Browser,
  CALLBACK,
  PUBLIC_URL,
  problemOf,
  startWebLoginFixture,
  type WebLoginFixture,
} from './testing.ts';

describe('web login: authorization code + PKCE against an OIDC provider', () => {
  let fixture: WebLoginFixture;
  let provider: TestOidcProvider;
  let edge: Edge;
  let seenCookies: Array<string | null>;
  let startEdge: WebLoginFixture['startEdge'];

  beforeAll(async () => {
    fixture = await startWebLoginFixture();
    ({ provider, edge, seenCookies, startEdge } = fixture);
  });
  afterAll(() => fixture?.stop());

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
    const plain = startEdge(PUBLIC_URL, null);
    try {
      const res = await plain.fetch(new Request(`${PUBLIC_URL}/auth/login`));
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
