import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forEachPooled } from '../lib/pool.ts';
import type { Thumbnail } from './thumbnails.ts';

/** What the edge was seen to do with tokens before the measurement. */
export interface TokenChecks {
  /** True only when a forged token was refused with 401 and the real one accepted. */
  on: boolean;
  forgedTokenStatus: number;
  /** The status without any credentials (404 or 401: an internal image is not shown). */
  noTokenStatus: number;
  validTokenStatus: number;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Whether the edge checks tokens, found out rather than assumed: the verifier and the
 * thumbnail rules may not be in place in the tree being measured, and a figure of an edge
 * that waves forged tokens through must not pass for one with token checks on. `path` must
 * be an internal image (the stand-in core never calls it public): a public one is served to
 * anyone, whatever token comes with the request, so it cannot tell.
 */
export async function probeTokenChecks(options: {
  origin: string;
  path: string;
  token: string;
  forgedToken: string;
}): Promise<TokenChecks> {
  const url = `${options.origin}${options.path}`;
  const forgedTokenStatus = await statusOf(url, bearer(options.forgedToken));
  const noTokenStatus = await statusOf(url, {});
  const validTokenStatus = await statusOf(url, bearer(options.token));
  return {
    on: forgedTokenStatus === 401 && noTokenStatus !== 200 && validTokenStatus === 200,
    forgedTokenStatus,
    noTokenStatus,
    validTokenStatus,
  };
}

/** Response headers whose name says rate limiting (`RateLimit-*`, `X-RateLimit-*`). */
export function rateLimitHeaders(headers: Headers): Record<string, string> {
  const found: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.toLowerCase().includes('ratelimit')) found[name] = value;
  });
  return found;
}

/**
 * GETs every thumbnail from one server and checks the answer byte for byte against the
 * file it was made from. On the edge the first GET of each also fills its disk cache from
 * the blob store, so the measurement that follows is of cached thumbnails only.
 */
export async function verifyAll(options: {
  origin: string;
  thumbnails: readonly Thumbnail[];
  siteDir: string;
  headers: Record<string, string>;
  concurrency: number;
}): Promise<{ headers: Headers }> {
  let sample: Headers | undefined;
  await forEachPooled(options.thumbnails, options.concurrency, async (t) => {
    const res = await fetch(`${options.origin}${t.path}`, { headers: options.headers });
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) {
      throw new Error(
        `GET ${options.origin}${t.path}: expected 200, got ${res.status}: ${new TextDecoder().decode(body.slice(0, 300))}`,
      );
    }
    const type = res.headers.get('content-type');
    if (type !== 'image/webp')
      throw new Error(`GET ${t.path}: content-type ${type}, not image/webp`);
    const expected = await readFile(join(options.siteDir, t.path));
    if (!expected.equals(body)) {
      throw new Error(`GET ${options.origin}${t.path}: the body differs from the thumbnail`);
    }
    sample ??= res.headers;
  });
  if (!sample) throw new Error('no thumbnails to verify');
  return { headers: sample };
}
