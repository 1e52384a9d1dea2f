import { fileBody } from '../runtime/file-body.ts';
import type { CachedFile } from '../thumbnails/thumbnail-cache.ts';
import { byteRangeOf } from './byte-range.ts';

/**
 * The response for a file of the edge's cache: the whole file (200), one range of it (206,
 * RFC 9110 §14), or 416 for a range past its end. Conditional headers other than If-Range are
 * the caller's (it answers 304 before calling this). HEAD gets the headers only. Null when
 * the file went (evicted or purged) since the cache handed it out: the caller answers 404.
 */
export async function cachedFileResponse(
  request: Request,
  file: CachedFile,
  headers: Record<string, string>,
  contentType: string,
): Promise<Response | null> {
  const common = { ...headers, 'accept-ranges': 'bytes' };
  let range = byteRangeOf(request.headers.get('range') ?? undefined, file.size);
  // If-Range (§13.1.5): the range applies only to the representation the client already has.
  const ifRange = request.headers.get('if-range');
  if (range && ifRange !== null && ifRange !== headers.etag) range = undefined;
  if (range === 'unsatisfiable') {
    return new Response(null, {
      status: 416,
      headers: { ...common, 'content-range': `bytes */${file.size}` },
    });
  }
  const out: Record<string, string> = {
    ...common,
    'content-type': contentType,
    'content-length': String(range ? range.end - range.start + 1 : file.size),
  };
  if (range) out['content-range'] = `bytes ${range.start}-${range.end}/${file.size}`;
  const status = range ? 206 : 200;
  if (request.method === 'HEAD') return new Response(null, { status, headers: out });
  let body: BodyInit;
  try {
    body = await fileBody(file.path, range);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
  return new Response(body, { status, headers: out });
}
