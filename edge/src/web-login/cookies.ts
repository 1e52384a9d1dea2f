import type { AexEnv } from '@aex/shared/http';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/**
 * The web login's cookies. Over https they carry the `__Host-` prefix (RFC 6265bis §4.1.3.2:
 * Secure, Path=/, no Domain, so no sibling subdomain can set or shadow them); over plain http
 * (a laptop) they cannot, and go without it. Always HttpOnly (no script reads them) and
 * SameSite=Lax: sent on a top-level navigation back from the provider (the callback), not on
 * a cross-site POST or a cross-site `<img>`.
 */
export interface CookieJar {
  readonly secure: boolean;
  get(c: Context<AexEnv>, name: string): string | undefined;
  set(c: Context<AexEnv>, name: string, value: string, maxAgeSec: number): void;
  delete(c: Context<AexEnv>, name: string): void;
}

export function cookieJar(publicUrl: string): CookieJar {
  const secure = new URL(publicUrl).protocol === 'https:';
  const prefix = secure ? ('host' as const) : undefined;
  const base = { httpOnly: true, sameSite: 'Lax' as const, path: '/' };
  return {
    secure,
    get: (c, name) => (prefix ? getCookie(c, name, prefix) : getCookie(c, name)),
    set(c, name, value, maxAgeSec) {
      if (secure) setCookie(c, name, value, { ...base, secure: true, prefix, maxAge: maxAgeSec });
      else setCookie(c, name, value, { ...base, maxAge: maxAgeSec });
    },
    delete(c, name) {
      if (secure) deleteCookie(c, name, { ...base, secure: true, prefix });
      else deleteCookie(c, name, base);
    },
  };
}

/**
 * Browsers keep about 4096 bytes per cookie, name and attributes included; an access token
 * with many roles can need more once sealed. Longer values are split over numbered cookies.
 */
const CHUNK = 3800;
/**
 * At most four: request headers past 16 KiB are refused by Bun's server (431), and the
 * sealed token must fit beside the other headers.
 */
const MAX_CHUNKS = 4;

/** Thrown when a value would need more than MAX_CHUNKS cookies. */
export class CookieTooLargeError extends Error {
  override name = 'CookieTooLargeError';
}

/** Writes `value` over `name`, `name.1`, …; drops chunks a longer earlier value left. */
export function setChunked(
  jar: CookieJar,
  c: Context<AexEnv>,
  name: string,
  value: string,
  maxAgeSec: number,
): void {
  const count = Math.ceil(value.length / CHUNK);
  if (count > MAX_CHUNKS) {
    throw new CookieTooLargeError(
      `a ${value.length}-character value needs more than ${MAX_CHUNKS} cookies`,
    );
  }
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const chunkName = i === 0 ? name : `${name}.${i}`;
    if (i < count) jar.set(c, chunkName, value.slice(i * CHUNK, (i + 1) * CHUNK), maxAgeSec);
    else if (jar.get(c, chunkName) !== undefined) jar.delete(c, chunkName);
  }
}

/** The value `setChunked` wrote, or undefined. */
export function getChunked(jar: CookieJar, c: Context<AexEnv>, name: string): string | undefined {
  const first = jar.get(c, name);
  if (first === undefined) return undefined;
  let value = first;
  for (let i = 1; i < MAX_CHUNKS; i++) {
    const next = jar.get(c, `${name}.${i}`);
    if (next === undefined) break;
    value += next;
  }
  return value;
}

/** Deletes every chunk of `name` the browser sent. */
export function deleteChunked(jar: CookieJar, c: Context<AexEnv>, name: string): void {
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const chunkName = i === 0 ? name : `${name}.${i}`;
    if (jar.get(c, chunkName) !== undefined) jar.delete(c, chunkName);
  }
}
