import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ConfigError, Problem } from '@aex/shared';
import { parseEdgeConfig } from '../config.ts';
import { type SecurityFixture, startSecurityFixture } from '../testing/security-fixture.ts';
import { TokenBucketLimiter } from './token-bucket.ts';

describe('TokenBucketLimiter', () => {
  test('a burst, then one request per refill interval; headers values follow the bucket', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ ratePerSec: 2, burst: 3, now: () => now });
    const takes = [1, 2, 3, 4].map(() => limiter.take('a'));
    expect(takes.map((t) => t.allowed)).toEqual([true, true, true, false]);
    expect(takes.map((t) => t.remaining)).toEqual([2, 1, 0, 0]);
    expect(takes[3]).toMatchObject({ limit: 3, retryAfterSec: 1, resetSec: 2 });
    now += 499;
    expect(limiter.take('a').allowed).toBe(false);
    now += 2;
    expect(limiter.take('a').allowed).toBe(true);
    // Other clients have their own buckets.
    expect(limiter.take('b')).toMatchObject({ allowed: true, remaining: 2 });
    // A long idle refills to the burst, never past it.
    now += 3_600_000;
    expect(limiter.take('a')).toMatchObject({ allowed: true, remaining: 2 });
  });

  test('memory is bounded: past maxClients the least recently seen client is forgotten', () => {
    const limiter = new TokenBucketLimiter({
      ratePerSec: 1,
      burst: 1,
      maxClients: 2,
      now: () => 0,
    });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    limiter.take('b');
    limiter.take('c');
    // `a` was dropped, so it starts over with a full bucket.
    expect(limiter.take('a').allowed).toBe(true);
  });

  test('a limiter that could never allow anything is refused when built', () => {
    expect(() => new TokenBucketLimiter({ ratePerSec: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucketLimiter({ ratePerSec: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe('rate limiting at the edge', () => {
  let f: SecurityFixture;
  beforeAll(async () => {
    f = await startSecurityFixture();
  });
  afterAll(() => f?.stop());

  const from = (address: string) => ({ remoteAddr: { hostname: address } });

  test('429 with Retry-After and RateLimit headers past the burst, then recovers after refill', async () => {
    // 2/s: the four requests below may take up to half a second on a busy machine.
    const app = f.app({ AEX_RATE_LIMIT: '2/s', AEX_RATE_BURST: '3' });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await app.request('/api/v1/images', {}, from('10.0.0.1'));
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('ratelimit-limit')).toBe('3');
        expect(last.headers.get('ratelimit-remaining')).toBe('2');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const res = last as Response;
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
    expect(res.headers.get('ratelimit-reset')).toBe('2');
    const body = Problem.parse(await res.json());
    expect(body.code).toBe('rate_limited');
    expect(body.detail).toContain('2/s per client, bursts of 3');
    // Another client is not affected; the health check is never limited.
    expect((await app.request('/api/v1/images', {}, from('10.0.0.2'))).status).toBe(200);
    expect((await app.request('/healthz', {}, from('10.0.0.1'))).status).toBe(200);
    await new Promise((done) => setTimeout(done, 600));
    expect((await app.request('/api/v1/images', {}, from('10.0.0.1'))).status).toBe(200);
    expect((await app.request('/api/v1/images', {}, from('10.0.0.1'))).status).toBe(429);
  });

  test('X-Forwarded-For counts only behind a trusted proxy', async () => {
    const direct = f.app({ AEX_RATE_LIMIT: '1/h', AEX_RATE_BURST: '1' });
    const spoof = (xff: string) => ({ headers: { 'x-forwarded-for': xff } });
    expect((await direct.request('/api/v1/x', spoof('1.1.1.1'), from('10.0.0.9'))).status).toBe(
      200,
    );
    // A made-up header does not buy a new bucket.
    expect((await direct.request('/api/v1/x', spoof('2.2.2.2'), from('10.0.0.9'))).status).toBe(
      429,
    );

    const proxied = f.app({ AEX_RATE_LIMIT: '1/h', AEX_RATE_BURST: '1', AEX_TRUST_PROXY: 'true' });
    const caddy = from('127.0.0.1');
    expect((await proxied.request('/api/v1/x', spoof('203.0.113.7, 10.1.1.1'), caddy)).status).toBe(
      200,
    );
    expect((await proxied.request('/api/v1/x', spoof('203.0.113.7'), caddy)).status).toBe(429);
    expect((await proxied.request('/api/v1/x', spoof('203.0.113.8'), caddy)).status).toBe(200);
    // A hostile entry is ignored: the socket address is used.
    expect((await proxied.request('/api/v1/x', spoof('<script>'), caddy)).status).toBe(200);
    expect((await proxied.request('/api/v1/x', spoof('x y'), caddy)).status).toBe(429);
  });

  test('verified clients are limited by who they are; made-up tokens share their address', async () => {
    const app = f.app({ AEX_RATE_LIMIT: '1/h', AEX_RATE_BURST: '1' });
    const ann = await f.issuer.tokenFor('reader', { sub: 'ann' });
    const bob = await f.issuer.tokenFor('reader', { sub: 'bob' });
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const office = from('192.0.2.1');
    expect((await app.request('/api/v1/x', as(ann), office)).status).toBe(200);
    expect((await app.request('/api/v1/x', as(bob), office)).status).toBe(200);
    expect((await app.request('/api/v1/x', as(ann), office)).status).toBe(429);
    // Forged tokens do not get a bucket each: they count against the address (401 first, then 429).
    expect((await app.request('/api/v1/x', as('forged.one.x'), office)).status).toBe(401);
    expect((await app.request('/api/v1/x', as('forged.two.x'), office)).status).toBe(429);
  });

  test('AEX_RATE_LIMIT and AEX_RATE_BURST are read or refused with the variable named', () => {
    const base = { AEX_URL_SIGNING_KEY: '11'.repeat(32) };
    expect(parseEdgeConfig(base).AEX_RATE_LIMIT).toEqual({ perSec: 100, text: '100/s' });
    expect(parseEdgeConfig({ ...base, AEX_RATE_LIMIT: '6000/m' }).AEX_RATE_LIMIT?.perSec).toBe(100);
    expect(parseEdgeConfig({ ...base, AEX_RATE_LIMIT: 'off' }).AEX_RATE_LIMIT).toBeNull();
    for (const [name, value] of [
      ['AEX_RATE_LIMIT', 'fast'],
      ['AEX_RATE_LIMIT', '-5/s'],
      ['AEX_RATE_LIMIT', '0/s'],
      ['AEX_RATE_BURST', '0'],
      ['AEX_RATE_BURST', 'many'],
    ] as const) {
      let err: unknown;
      try {
        parseEdgeConfig({ ...base, [name]: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.join('\n')).toContain(name);
    }
  });
});
