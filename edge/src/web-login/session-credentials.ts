import type { AexEnv } from '@aex/shared/http';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteChunked, getChunked } from './cookies.ts';
import { SESSION_COOKIE, type WebLogin } from './web-login.ts';

/** A Cookie header without the cookies named `name`, `name.<n>` (and their `__Host-` forms). */
export function withoutCookies(header: string, name: string): string {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => {
      const key = pair.slice(0, pair.indexOf('=')).replace(/^__Host-/, '');
      return pair.length > 0 && key !== name && !key.startsWith(`${name}.`);
    })
    .join('; ');
}

/** What the session cookie holds, sealed: the provider's access token and its subject. */
export interface WebSession {
  accessToken: string;
  subject: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request comes from a page of AEX itself: its `Origin` is AEX_PUBLIC_URL's, or,
 * from a browser that sends no Origin, `Sec-Fetch-Site: same-origin`. Anything else (another
 * site, a sibling subdomain, no evidence at all) is cross-site.
 */
export function fromOwnOrigin(c: Context<AexEnv>, publicOrigin: string): boolean {
  const origin = c.req.header('origin');
  if (origin !== undefined) return origin === publicOrigin;
  return c.req.header('sec-fetch-site') === 'same-origin';
}

/**
 * Turns the web login's session cookie into the bearer token it holds, for `/api/*`: the
 * edge's token checks and core then see a request like any other. Explicit credentials
 * (`Authorization`, `X-Api-Key`) win. A cookie is sent by the browser whoever made the page,
 * so a state-changing request (not GET/HEAD/OPTIONS) gets the session only when it comes from
 * AEX's own origin (SameSite=Lax already keeps the cookie off cross-site POSTs; this also
 * covers same-site pages on sibling hosts). A cookie that does not open (altered, expired,
 * old key) is deleted.
 */
export function sessionCredentials(login: WebLogin): MiddlewareHandler<AexEnv> {
  return async function sessionCredentialsMiddleware(c, next) {
    const sealed = getChunked(login.cookies, c, SESSION_COOKIE);
    if (
      sealed === undefined ||
      c.req.header('authorization') !== undefined ||
      c.req.header('x-api-key') !== undefined
    ) {
      return next();
    }
    const session = await login.sealer.open<WebSession>('session', sealed);
    if (!session) {
      await next();
      deleteChunked(login.cookies, c, SESSION_COOKIE);
      return;
    }
    if (!SAFE_METHODS.has(c.req.method) && !fromOwnOrigin(c, login.publicOrigin)) {
      c.get('log').warn(
        { origin: c.req.header('origin') ?? null, method: c.req.method },
        'cross-site request: the session cookie was not used',
      );
      return next();
    }
    const headers = new Headers(c.req.raw.headers);
    headers.set('authorization', `Bearer ${session.accessToken}`);
    // The token now travels as the bearer header; its sealed copy need not travel on to core
    // (twice the header bytes, and core has no use for it).
    const others = withoutCookies(c.req.header('cookie') ?? '', SESSION_COOKIE);
    if (others) headers.set('cookie', others);
    else headers.delete('cookie');
    c.req.raw = new Request(c.req.raw, { headers });
    await next();
  };
}
