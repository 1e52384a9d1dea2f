import { AexError, ImageIdParam, originalKey } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { BlobRangeError, type BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { ImageQueryService } from '../../services/image-queries.ts';
import { problems } from '../problems.ts';

const binary = { schema: z.string().meta({ format: 'binary' }) };

/**
 * A download of the original as uploaded. Private: an original may carry GPS and other EXIF
 * a user does not publish, and auth comes in front of this later. An hour, then revalidated
 * with the ETag (cheap: a 304).
 */
const CACHE_CONTROL = 'private, max-age=3600';

export const getOriginalRoute = createRoute({
  method: 'get',
  path: '/api/v1/images/{id}/original',
  summary: 'Download the original file',
  description:
    'The bytes as uploaded, as an attachment. ETag is the sha256; If-None-Match gives 304; ' +
    'a single `Range` gives 206 (several ranges are answered with the whole file).',
  request: { params: ImageIdParam },
  responses: {
    200: { description: 'The original', content: { 'application/octet-stream': binary } },
    206: { description: 'The range asked for', content: { 'application/octet-stream': binary } },
    304: { description: 'Not modified (If-None-Match matched the ETag)' },
    400: problems[400],
    404: problems[404],
    416: { description: 'The range starts past the end of the file' },
  },
});

/** `GET /api/v1/images/:id/original`: the original, streamed from the blob store. */
export function registerOriginalImage(
  app: OpenAPIHono<AexEnv>,
  deps: { queries: ImageQueryService; blobs: BlobStore },
): void {
  app.openapi(getOriginalRoute, async function serveOriginal(c) {
    const image = await deps.queries.get(c.req.valid('param').id);
    const etag = `"${image.sha256}"`;
    const size = image.byteSize;
    const common: Record<string, string> = {
      etag,
      'cache-control': CACHE_CONTROL,
      'accept-ranges': 'bytes',
    };
    // RFC 9110 §13.2.2: If-None-Match is evaluated before Range, with weak comparison.
    if (noneMatch(c.req.header('if-none-match'), image.sha256)) return c.body(null, 304, common);
    const headers: Record<string, string> = {
      ...common,
      'content-type': image.mime,
      'content-disposition': attachment(
        image.originalName,
        `${image.sha256}.${extension(image.format)}`,
      ),
      'x-content-type-options': 'nosniff',
      // Opened in a tab rather than saved, a hostile file still runs nothing.
      'content-security-policy': "default-src 'none'; sandbox",
    };
    let range = rangeOf(c.req.header('range'), size);
    // If-Range (§13.1.5): a range only applies to the representation the client has.
    const ifRange = c.req.header('if-range');
    if (range && ifRange !== undefined && ifRange !== etag) range = undefined;
    if (range === 'unsatisfiable') {
      return c.body(null, 416, { ...common, 'content-range': `bytes */${size}` });
    }
    const status = range ? 206 : 200;
    headers['content-length'] = String(range ? range.end - range.start + 1 : size);
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    // Hono answers HEAD through this GET handler and drops the body: do not open the blob.
    if (c.req.method === 'HEAD') return c.body(null, status, headers);
    let blob: Awaited<ReturnType<BlobStore['get']>>;
    try {
      blob = await deps.blobs.get(originalKey(image.sha256), range ? { range } : undefined);
    } catch (err) {
      if (err instanceof BlobRangeError) {
        return c.body(null, 416, { ...common, 'content-range': `bytes */${err.size}` });
      }
      throw err;
    }
    if (!blob) {
      // The row exists but its original does not: a fault on our side, not the client's.
      throw new AexError('internal', `The original of image ${image.id} is missing.`);
    }
    return c.body(blob.body, status, headers);
  });
}

/** Whether an If-None-Match header matches the strong ETag `"<sha256>"` (weakly compared). */
function noneMatch(header: string | undefined, sha256: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === `"${sha256}"`);
}

/**
 * The single byte range a `Range` header asks for (RFC 9110 §14.1.2), clamped to the file;
 * undefined when there is none or it is not one valid range (then the whole file is sent,
 * as §14.2 allows), `unsatisfiable` when it starts past the end.
 */
function rangeOf(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (!Number.isSafeInteger(start) || end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

const EXTENSIONS: Record<string, string> = { jpeg: 'jpg', tiff: 'tif' };

function extension(format: string): string {
  return EXTENSIONS[format] ?? format;
}

/**
 * `Content-Disposition: attachment` with the file's name: an ASCII `filename` for old
 * clients and the exact UTF-8 name in `filename*` (RFC 6266 §4.3, RFC 8187 §3.2). Names come
 * from uploads, so anything hostile goes: path parts, control characters, quotes, and `%`
 * (which some clients decode in `filename`).
 */
export function attachment(name: string | null, fallback: string): string {
  const last = (name ?? '')
    .split(/[/\\]/)
    .at(-1)
    // Control and format characters (bidi overrides that disguise an extension) and lone
    // surrogates (encodeURIComponent throws on them).
    ?.replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, '')
    .trim()
    .replace(/^\.+/, '');
  const base = Array.from(last ?? '')
    .slice(0, 200)
    .join('');
  const file = base || fallback;
  const ascii = file.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  // encodeURIComponent leaves !'()* alone; of those, RFC 8187 attr-char allows only "!".
  const encoded = encodeURIComponent(file).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
