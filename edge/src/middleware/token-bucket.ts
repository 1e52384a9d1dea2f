import { LruMap } from '../auth/lru-map.ts';

export interface TokenBucketOptions {
  /** Tokens added per second: the sustained request rate of one client. */
  ratePerSec: number;
  /** Bucket size: how many requests a client may make at once after being idle. */
  burst: number;
  /**
   * Most clients tracked. Past it the least recently seen client is forgotten, which only
   * gives that client a full bucket again, so memory stays bounded whatever the traffic.
   */
  maxClients?: number;
  /** Milliseconds clock; default `performance.now`. */
  now?: () => number;
}

/** What one request's take from its client's bucket gave. */
export interface BucketTake {
  allowed: boolean;
  /** The bucket size (RateLimit-Limit). */
  limit: number;
  /** Whole tokens left after this request (RateLimit-Remaining). */
  remaining: number;
  /** Seconds until the bucket is full again (RateLimit-Reset). */
  resetSec: number;
  /** Seconds until the next request would be allowed (Retry-After); 0 when allowed now. */
  retryAfterSec: number;
}

/**
 * Token buckets per client key: each request takes one token, tokens come back at
 * `ratePerSec` up to `burst`. Refill is computed when a client is seen, so idle clients cost
 * nothing but their map entry.
 */
export class TokenBucketLimiter {
  private readonly buckets: LruMap<string, { tokens: number; at: number }>;
  private readonly now: () => number;

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.ratePerSec > 0) || !(options.burst >= 1)) {
      throw new RangeError('TokenBucketLimiter: ratePerSec must be > 0 and burst at least 1');
    }
    this.now = options.now ?? (() => performance.now());
    this.buckets = new LruMap({ maxEntries: options.maxClients ?? 100_000 });
  }

  take(key: string): BucketTake {
    const { ratePerSec, burst } = this.options;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSec);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    return {
      allowed,
      limit: burst,
      remaining: Math.floor(bucket.tokens),
      resetSec: Math.ceil((burst - bucket.tokens) / ratePerSec),
      retryAfterSec: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSec)),
    };
  }
}
