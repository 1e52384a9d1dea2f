import { isDerivedVariant, Sha256 } from '@aex/shared';
import { type AexEnv, problemResponse } from '@aex/shared/http';
import type { Context, Hono } from 'hono';
import {
  decideThumbnailAccess,
  isGrant,
  type ThumbnailAccessDeps,
  type ThumbnailDenial,
  type ThumbnailGrant,
} from '../thumbnails/thumbnail-access.ts';
import type { ThumbnailCache } from '../thumbnails/thumbnail-cache.ts';
import { cachedFileResponse } from './file-response.ts';

/** One year, immutable: derived URLs are content-addressed (DESIGN.md, "Storage layout"). */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Answers that depend on the request's credentials (RFC 9110 §12.5.5). */
const VARY_CREDENTIALS = 'Accept-Encoding, Authorization, X-Api-Key';

/** Whether an If-None-Match header names this ETag (RFC 9110 §13.1.2: weak comparison). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * How caches may keep a granted thumbnail. Internal images are never `public`: a shared cache
 * (CDN) must not hand them to the next client. A signed URL's answer may be kept by the
 * browser until the signature expires; a token's answer is revalidated on each use (a cheap
 * 304 once access is checked again).
 */
function cacheHeaders(grant: ThumbnailGrant): Record<string, string> {
  if (grant.kind === 'public') {
    // Public images may be embedded and fetched by any site: no credentials are involved.
    return {
      'cache-control': IMMUTABLE,
      vary: 'Accept-Encoding',
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
    };
  }
  // Cross-origin embedding is safe here too: access needs the signed URL or a header another
  // site's page cannot attach (this route never reads the web login's session cookie), so
  // CORP would only break a web app served from another origin.
  const cacheControl =
    grant.kind === 'signed-url' ? `private, max-age=${grant.remainingSec}` : 'private, no-cache';
  return {
    'cache-control': cacheControl,
    vary: VARY_CREDENTIALS,
    'cross-origin-resource-policy': 'cross-origin',
  };
}

/** The one answer of each denial; none of them says whether an internal image exists. */
function denialResponse(c: Context<AexEnv>, denial: ThumbnailDenial, what: string): Response {
  const vary = { vary: VARY_CREDENTIALS };
  switch (denial.kind) {
    case 'unavailable':
      return problemResponse(
        c,
        'unavailable',
        'Access to this image cannot be checked right now; retry in a few seconds.',
        { ...vary, 'retry-after': '5' },
      );
    case 'invalid-token':
      return problemResponse(
        c,
        'unauthenticated',
        'The bearer token or API key is not valid: it has expired, was revoked or was not issued for AEX. Sign in again (or use a current key) and retry.',
        { ...vary, 'www-authenticate': 'Bearer realm="aex", error="invalid_token"' },
      );
    case 'not-found': {
      const detail = {
        'expired-link': `This link to ${what} has expired: reload the page to get a fresh one.`,
        'invalid-link': `This link to ${what} is not valid (it may have been altered or cut short): reload the page to get a fresh one.`,
        'no-access': `No ${what} that you may see: sign in, or use the link the app gives you.`,
      }[denial.because];
      return problemResponse(c, 'not_found', detail, vary);
    }
  }
}

export interface ThumbnailRouteDeps {
  cache: ThumbnailCache;
  access: ThumbnailAccessDeps;
}

/**
 * `GET /t/<sha256>/<variant>[?exp=…&sig=…]`: thumbnails and previews from the edge's disk
 * cache, to whoever may see them (see `decideThumbnailAccess`).
 */
export function registerThumbnails(app: Hono<AexEnv>, deps: ThumbnailRouteDeps): void {
  app.on(['GET', 'HEAD'], '/t/:sha256/:variant', async (c) => {
    const { sha256, variant } = c.req.param();
    if (!Sha256.safeParse(sha256).success) {
      return problemResponse(
        c,
        'invalid_input',
        'The image address must be a lowercase hex sha256.',
      );
    }
    if (!isDerivedVariant(variant)) {
      return problemResponse(c, 'not_found', 'Unknown variant: use thumb or preview.');
    }
    const what = `the ${variant} of image ${sha256}`;
    // Access first: the disk cache, the origin and the ETag are consulted only for a client
    // that may see the image, so a 304 or a 404-vs-200 never tells an outsider it exists.
    const access = await decideThumbnailAccess(
      {
        sha256,
        variant,
        exp: c.req.query('exp'),
        sig: c.req.query('sig'),
        auth: c.get('requestAuth') ?? { kind: 'anonymous' },
        requestId: c.get('requestId'),
      },
      deps.access,
    );
    if (!isGrant(access)) return denialResponse(c, access, what);
    const etag = `"${sha256}-${variant}"`;
    const headers: Record<string, string> = { etag, ...cacheHeaders(access) };
    const missing = () =>
      problemResponse(c, 'not_found', `No ${variant} for image ${sha256}.`, {
        vary: headers.vary ?? VARY_CREDENTIALS,
      });
    // Looked up before answering 304, so a deleted image is a 404 even to a client that
    // still holds its ETag.
    const file = await deps.cache.get(sha256, variant);
    if (!file) return missing();
    if (matches(c.req.header('if-none-match'), etag)) {
      return new Response(null, { status: 304, headers });
    }
    const response = await cachedFileResponse(c.req.raw, file, headers, 'image/webp');
    return response ?? missing();
  });
}
