import { isDerivedVariant, Sha256 } from '@aex/shared';
import { type AexEnv, problemResponse } from '@aex/shared/http';
import type { Hono } from 'hono';
import type { ThumbnailCache } from '../thumbnails/thumbnail-cache.ts';
import { fileBody } from './file-response.ts';

/** One year, immutable: derived URLs are content-addressed (DESIGN.md, "Storage layout"). */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Whether an If-None-Match header names this ETag (RFC 9110 §13.1.2: weak comparison). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** `GET /t/<sha256>/<variant>`: thumbnails and previews from the edge's disk cache. */
export function registerThumbnails(app: Hono<AexEnv>, deps: { cache: ThumbnailCache }): void {
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
    const etag = `"${sha256}-${variant}"`;
    const headers = { etag, 'cache-control': IMMUTABLE, vary: 'Accept-Encoding' };
    // Looked up before answering 304, so a deleted image is a 404 even to a client that
    // still holds its ETag.
    const file = await deps.cache.get(sha256, variant);
    if (!file) return problemResponse(c, 'not_found', `No ${variant} for image ${sha256}.`);
    if (matches(c.req.header('if-none-match'), etag)) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(c.req.method === 'HEAD' ? null : fileBody(file.path), {
      status: 200,
      headers: { ...headers, 'content-type': 'image/webp', 'content-length': String(file.size) },
    });
  });
}
