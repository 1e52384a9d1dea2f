import type { AexEnv } from '@aex/shared/http';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/** Request headers a web app on another origin may send to the API. */
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'X-Api-Key',
  'X-Request-Id',
  'Idempotency-Key',
  'If-Match',
  'If-None-Match',
  // tus resumable uploads (tus.io protocol 1.0.0)
  'Tus-Resumable',
  'Upload-Length',
  'Upload-Offset',
  'Upload-Metadata',
  'Upload-Defer-Length',
  'Upload-Concat',
];

/** Response headers such an app may read. */
const EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Retry-After',
  'X-Request-Id',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Tus-Resumable',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Expires',
];

/**
 * CORS for the API (hono/cors): only the origins listed in AEX_CORS_ORIGINS get
 * `Access-Control-Allow-Origin`; with none listed (the default) browsers allow same-origin
 * use only. No credentials mode: pages of other origins authenticate with bearer headers;
 * the web login's session cookie is for AEX's own pages only, so another site's page can
 * never act with (or read answers made with) a user's ambient credentials.
 */
export function corsPolicy(options: { origins: string[] }): MiddlewareHandler<AexEnv> {
  const allowed = new Set(options.origins);
  return cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  }) as MiddlewareHandler<AexEnv>;
}
