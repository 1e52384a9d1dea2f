import { stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AexEnv } from '@aex/shared/http';
import type { Hono } from 'hono';
import { fileBody } from '../runtime/file-body.ts';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  webp: 'image/webp',
  ico: 'image/x-icon',
  json: 'application/json',
  woff2: 'font/woff2',
};

/**
 * The static web app, for the all-in-one process (in production Caddy serves it). Unknown
 * paths get `index.html`, so client-side routes work on reload.
 */
export function registerWeb(app: Hono<AexEnv>, deps: { dir: string }): void {
  app.get('/*', async (c, next) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(c.req.path);
    } catch {
      return next();
    }
    // normalize() of an absolute path resolves every `..` at the root, so the join below
    // stays inside the folder; the startsWith check is a second guard.
    let path = join(deps.dir, normalize(decoded));
    if (!path.startsWith(deps.dir)) return next();
    let info = await stat(path).catch(() => null);
    if (!info?.isFile()) {
      path = join(deps.dir, 'index.html');
      info = await stat(path).catch(() => null);
      if (!info?.isFile()) return next();
    }
    const ext = path.split('.').pop() ?? '';
    const html = ext === 'html';
    return new Response(await fileBody(path), {
      headers: {
        'content-type': TYPES[ext] ?? 'application/octet-stream',
        'content-length': String(info.size),
        // The page itself is revalidated so a new release shows at once.
        'cache-control': html ? 'no-cache' : 'public, max-age=3600',
        'x-content-type-options': 'nosniff',
      },
    });
  });
}
