import type { MiddlewareHandler } from 'hono';
import { type Logger, lazyChild } from '../ports/log.ts';
import { ANONYMOUS } from '../src/auth/principal.ts';
import { newId } from '../src/ids.ts';
import type { AexEnv } from './context.ts';

export interface RequestContextOptions {
  log: Logger;
  /** Paths that are not logged on success (health checks). Default: none. */
  quietPaths?: string[];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// W3C Trace Context: version-traceid-parentid-flags; an all-zero trace id is invalid.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function randomHex(bytes: number): string {
  let out = '';
  for (const b of crypto.getRandomValues(new Uint8Array(bytes))) out += HEX[b];
  return out;
}

/** The trace id of a `traceparent` header, or a new one. */
export function traceIdFrom(traceparent: string | undefined): string {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  return m?.[1] && !/^0+$/.test(m[1]) ? m[1] : randomHex(16);
}

/** A `traceparent` header continuing `traceId` with a new span. */
export function traceparentFor(traceId: string): string {
  return `00-${traceId}-${randomHex(8)}-01`;
}

/**
 * Gives every request a request id (kept from `x-request-id` when well-formed, so an edge
 * and core log the same id) and a trace id (from W3C `traceparent`), a child logger that
 * carries both, and logs one JSON line when the response is done.
 */
export function requestContext(options: RequestContextOptions): MiddlewareHandler<AexEnv> {
  const quiet = new Set(options.quietPaths ?? []);
  return async function requestContextMiddleware(c, next) {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : newId();
    const traceId = traceIdFrom(c.req.header('traceparent'));
    const log = lazyChild(options.log, { requestId, traceId });
    c.set('requestId', requestId);
    c.set('traceId', traceId);
    c.set('log', log);
    c.set('principal', ANONYMOUS);
    await next();
    c.res.headers.set('x-request-id', requestId);
    const status = c.res.status;
    if (status < 400 && quiet.has(c.req.path)) return;
    const line = {
      method: c.req.method,
      path: c.req.path,
      status,
      subject: c.get('principal').subject,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    // On the parent, with the ids in the line: the same JSON as the child would write, and
    // nothing is made for a line the log level drops.
    if (status >= 500) options.log.error({ requestId, traceId, ...line }, 'request');
    else options.log.info({ requestId, traceId, ...line }, 'request');
  };
}
