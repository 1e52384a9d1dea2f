import { type AexEnv, problemResponse } from '@aex/shared/http';
import type { Context, MiddlewareHandler } from 'hono';
import type { TokenBucketLimiter } from './token-bucket.ts';

export interface RateLimitOptions {
  limiter: TokenBucketLimiter;
  /** The client a request counts against. */
  clientKey: (c: Context<AexEnv>) => string;
  /** Paths never limited (health checks from the load balancer). */
  exemptPaths?: string[];
  /** How the limit reads in the 429's detail, e.g. `100 requests/s, bursts of 200`. */
  describe: string;
}

/**
 * Token-bucket rate limiting per client (issue 5). Every limited response carries the IETF
 * draft's `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (draft-ietf-httpapi-ratelimit-headers), so well-behaved clients can pace themselves; a
 * request over the limit gets 429 `rate_limited` with `Retry-After` (RFC 6585 §4) and never
 * reaches a route.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AexEnv> {
  const exempt = new Set(options.exemptPaths ?? []);
  return async function rateLimitMiddleware(c, next) {
    if (exempt.has(c.req.path)) return next();
    const take = options.limiter.take(options.clientKey(c));
    const headers: Record<string, string> = {
      'ratelimit-limit': String(take.limit),
      'ratelimit-remaining': String(take.remaining),
      'ratelimit-reset': String(take.resetSec),
    };
    if (!take.allowed) {
      return problemResponse(
        c,
        'rate_limited',
        `Too many requests from this client (limit: ${options.describe}): wait ${take.retryAfterSec} s before retrying, and pace requests by the RateLimit-* headers.`,
        { ...headers, 'retry-after': String(take.retryAfterSec) },
      );
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}
