import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problem } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { createTokenVerifier } from '@aex/shared/ports/identity/token-verifier';
import { silentLogger } from '@aex/shared/ports/log';
import sharp from 'sharp';
import { createEdgeApp } from './app.ts';
import type { EdgeSecurity } from './edge-security.ts';
import { httpUpstream } from './routes/api-proxy.ts';
import { ThumbnailCache } from './thumbnails/thumbnail-cache.ts';

const SHA = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

/** Public images (core's `by-sha` answers 200); access control itself is tested in thumbnail-access.test.ts. */
const PUBLIC_SHAS = new Set([SHA, OTHER]);
const BY_SHA = '/api/v1/public/images/by-sha/';

const security: EdgeSecurity = {
  tokens: createTokenVerifier({
    issuer: 'https://issuer.test',
    audience: 'aex',
    keys: async () => ({ keys: [] }),
  }),
  urlSigningKey: crypto.getRandomValues(new Uint8Array(32)),
  rateLimit: null,
  trustProxy: false,
  corsOrigins: [],
};

/** A blob store that counts origin reads, to see the cache and single-flight at work. */
function counted(store: BlobStore): { store: BlobStore; gets: () => number } {
  let gets = 0;
  return {
    store: {
      ...store,
      kind: store.kind,
      get: (key, options) => {
        gets += 1;
        return store.get(key, options);
      },
    },
    gets: () => gets,
  };
}

describe('edge', () => {
  let dir: string;
  let blobs: BlobStore;
  let origin: ReturnType<typeof counted>;
  let thumb: Buffer;
  let upstream: ReturnType<typeof Bun.serve>;
  let seen: Request[];
  let app: ReturnType<typeof createEdgeApp>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aex-edge-'));
    blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
    thumb = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c33' } })
      .webp()
      .toBuffer();
    await blobs.put(`derived/${SHA}/thumb.webp`, thumb, { contentType: 'image/webp' });
    await blobs.put(`derived/${SHA}/preview.webp`, thumb, { contentType: 'image/webp' });
    origin = counted(blobs);
    seen = [];
    // A real HTTP peer standing in for core, so forwarding is observed on the wire.
    upstream = Bun.serve({
      port: 0,
      async fetch(request) {
        const path = new URL(request.url).pathname;
        if (path.startsWith(BY_SHA)) {
          return new Response(null, {
            status: PUBLIC_SHAS.has(path.slice(BY_SHA.length)) ? 200 : 404,
          });
        }
        seen.push(request);
        const body = request.body ? await request.arrayBuffer() : new ArrayBuffer(0);
        return Response.json(
          {
            path: new URL(request.url).pathname + new URL(request.url).search,
            bytes: body.byteLength,
          },
          { status: 201, headers: { 'x-from': 'core', connection: 'close' } },
        );
      },
    });
    app = createEdgeApp({
      log: silentLogger(),
      cache: new ThumbnailCache({
        dir: join(dir, 'cache'),
        origin: origin.store,
        maxBytes: 1024 ** 2,
      }),
      upstream: httpUpstream(`http://127.0.0.1:${upstream.port}`),
      security,
    });
  });
  afterAll(async () => {
    await upstream?.stop(true);
    await rm(dir, { recursive: true, force: true });
  });

  test('serves a thumbnail with an immutable cache policy and a strong ETag', async () => {
    const res = await app.request(`/t/${SHA}/thumb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('etag')).toBe(`"${SHA}-thumb"`);
    expect(res.headers.get('content-length')).toBe(String(thumb.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(thumb)).toBe(true);
  });

  test('If-None-Match with the ETag (alone, in a list, or weak) gives 304 without a body', async () => {
    for (const inm of [`"${SHA}-thumb"`, `"x", "${SHA}-thumb"`, `W/"${SHA}-thumb"`, '*']) {
      const res = await app.request(`/t/${SHA}/thumb`, { headers: { 'if-none-match': inm } });
      expect({ inm, status: res.status }).toEqual({ inm, status: 304 });
      expect(res.headers.get('etag')).toBe(`"${SHA}-thumb"`);
      expect(await res.text()).toBe('');
    }
    const other = await app.request(`/t/${SHA}/thumb`, { headers: { 'if-none-match': '"nope"' } });
    expect(other.status).toBe(200);
  });

  test('HEAD gives the headers without the body', async () => {
    const res = await app.request(`/t/${SHA}/preview`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(thumb.length));
    expect(await res.text()).toBe('');
  });

  test('hits come from the disk cache; concurrent misses share one origin read', async () => {
    await blobs.put(`derived/${OTHER}/thumb.webp`, thumb, { contentType: 'image/webp' });
    const before = origin.gets();
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => app.request(`/t/${OTHER}/thumb`)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(origin.gets() - before).toBe(1);
    // Gone from the origin, still served from the cache.
    await blobs.delete(`derived/${OTHER}/thumb.webp`);
    const cached = await app.request(`/t/${OTHER}/thumb`);
    expect(cached.status).toBe(200);
    expect(origin.gets() - before).toBe(1);
  });

  test('bad addresses are problems: malformed hash, unknown variant, missing image', async () => {
    const cases: Array<[string, number, string]> = [
      ['/t/not-a-hash/thumb', 400, 'invalid_input'],
      [`/t/${SHA.toUpperCase()}/thumb`, 400, 'invalid_input'],
      [`/t/${SHA}/original`, 404, 'not_found'],
      [`/t/${SHA}/..%2F..%2Fetc%2Fpasswd`, 404, 'not_found'],
      [`/t/${'c'.repeat(64)}/thumb`, 404, 'not_found'],
    ];
    for (const [path, status, code] of cases) {
      const res = await app.request(path);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(Problem.parse(await res.json()).code).toBe(code as Problem['code']);
    }
    // A 304 is never given for an image that does not exist.
    const res = await app.request(`/t/${'c'.repeat(64)}/thumb`, {
      headers: { 'if-none-match': '*' },
    });
    expect(res.status).toBe(404);
  });

  test('/api/* is proxied with body, query, request id and trace context; hop-by-hop headers dropped', async () => {
    const body = new Uint8Array(300_000).fill(1);
    const res = await app.request('/api/v1/images?x=1', {
      method: 'POST',
      body,
      headers: { 'x-request-id': 'edge-req-1', connection: 'keep-alive', 'x-custom': 'kept' },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ path: '/api/v1/images?x=1', bytes: body.length });
    expect(res.headers.get('x-from')).toBe('core');
    expect(res.headers.get('connection')).toBeNull();
    expect(res.headers.get('x-request-id')).toBe('edge-req-1');
    const forwarded = seen.at(-1);
    expect(forwarded?.headers.get('x-request-id')).toBe('edge-req-1');
    expect(forwarded?.headers.get('x-custom')).toBe('kept');
    expect(forwarded?.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  test('core gets the client address the edge settled on, never a forged X-Forwarded-For', async () => {
    // A core stand-in that answers with the X-Forwarded-For it received.
    const echo = Bun.serve({
      port: 0,
      fetch: (r) => Response.json({ xff: r.headers.get('x-forwarded-for') }),
    });
    const edgeFor = (trustProxy: boolean) =>
      createEdgeApp({
        log: silentLogger(),
        cache: new ThumbnailCache({ dir: join(dir, 'cache3'), origin: blobs, maxBytes: 1024 ** 2 }),
        upstream: httpUpstream(`http://127.0.0.1:${echo.port}`),
        security: { ...security, trustProxy },
      });
    const forged = { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' };
    // The socket's peer, as Bun.serve passes it to the fetch handler.
    const bun = { requestIP: () => ({ address: '192.0.2.44' }) };
    const xff = async (app: ReturnType<typeof createEdgeApp>, env?: object) =>
      (
        (await (await app.request('/api/v1/ping', { headers: forged }, env)).json()) as {
          xff: string | null;
        }
      ).xff;
    try {
      expect(await xff(edgeFor(false), bun)).toBe('192.0.2.44');
      // No peer known (in-process): the forged header is dropped rather than passed on.
      expect(await xff(edgeFor(false))).toBeNull();
      // Behind a trusted proxy (AEX_TRUST_PROXY): the first entry, the client it saw.
      expect(await xff(edgeFor(true), bun)).toBe('203.0.113.9');
    } finally {
      await echo.stop(true);
    }
  });

  test('a core that does not answer is a 503 problem with Retry-After', async () => {
    const dead = createEdgeApp({
      log: silentLogger(),
      cache: new ThumbnailCache({ dir: join(dir, 'cache2'), origin: blobs, maxBytes: 1024 ** 2 }),
      upstream: httpUpstream('http://127.0.0.1:9'),
      security,
    });
    const res = await dead.request('/api/v1/images');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(Problem.parse(await res.json()).code).toBe('unavailable');
  });
});
