import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Problem, signThumbnailUrl } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import type { Hono } from 'hono';
import {
  API_KEYS,
  type SecurityFixture,
  startSecurityFixture,
} from '../testing/security-fixture.ts';

const PUBLIC = '1'.repeat(64);
const INTERNAL = '2'.repeat(64);
const MISSING = '3'.repeat(64);
const BYTES = new Uint8Array(4096).map((_, i) => i % 251);

async function problem(res: Response): Promise<Problem> {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return Problem.parse(await res.json());
}

describe('thumbnail access', () => {
  let f: SecurityFixture;
  let app: Hono<AexEnv>;
  let readerToken: string;

  beforeAll(async () => {
    f = await startSecurityFixture();
    for (const sha of [PUBLIC, INTERNAL]) {
      await f.blobs.put(`derived/${sha}/thumb.webp`, BYTES, { contentType: 'image/webp' });
      await f.blobs.put(`derived/${sha}/preview.webp`, BYTES, { contentType: 'image/webp' });
    }
    f.core.publicShas.add(PUBLIC);
    app = f.app();
    readerToken = await f.issuer.tokenFor('reader');
  });
  afterAll(() => f?.stop());

  const signed = (sha: string, variant: 'thumb' | 'preview' = 'thumb', now = Date.now()) =>
    signThumbnailUrl({ sha256: sha, variant, key: f.key, now });

  test('a public image: anyone, any cache, for a year, embeddable anywhere', async () => {
    const res = await app.request(`/t/${PUBLIC}/thumb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('vary')).toBe('Accept-Encoding');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(BYTES);
  });

  test('an internal image is a 404 to an anonymous client, the same 404 as no image at all', async () => {
    const internal = await app.request(`/t/${INTERNAL}/thumb`);
    const missing = await app.request(`/t/${MISSING}/thumb`);
    expect([internal.status, missing.status]).toEqual([404, 404]);
    const [a, b] = [await problem(internal), await problem(missing)];
    expect(a.detail.replace(INTERNAL, 'X')).toBe(b.detail.replace(MISSING, 'X'));
    expect(a.detail).toContain('sign in');
    expect(internal.headers.get('cache-control')).toBe('no-store');
    expect(internal.headers.get('vary')).toContain('Authorization');
  });

  test('a signed URL serves the internal image, privately, until the signature expires', async () => {
    const url = await signed(INTERNAL);
    const res = await app.request(url);
    expect(res.status).toBe(200);
    const cacheControl = res.headers.get('cache-control') ?? '';
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(cacheControl)?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(3600 - 5);
    expect(maxAge).toBeLessThanOrEqual(4200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(BYTES);
  });

  test("tampered, expired, or another image's or variant's signature: 404 telling to reload", async () => {
    const good = new URL(await signed(INTERNAL), 'http://x');
    const exp = good.searchParams.get('exp') ?? '';
    const sig = good.searchParams.get('sig') ?? '';
    const expired = new URL(
      await signed(INTERNAL, 'thumb', Date.now() - 2 * 3600e3 - 600e3),
      'http://x',
    );
    const forOther = new URL(await signed(PUBLIC), 'http://x').search;
    const forPreview = new URL(await signed(INTERNAL, 'preview'), 'http://x').search;
    const cases: Array<[string, string, RegExp]> = [
      [
        'tampered signature',
        `/t/${INTERNAL}/thumb?exp=${exp}&sig=${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`,
        /not valid/,
      ],
      [
        'extended expiry',
        `/t/${INTERNAL}/thumb?exp=${Number(exp) + 86400}&sig=${sig}`,
        /not valid/,
      ],
      ['expired', `/t/${INTERNAL}/thumb${expired.search}`, /expired/],
      ["another image's", `/t/${INTERNAL}/thumb${forOther}`, /not valid/],
      ["another variant's", `/t/${INTERNAL}/thumb${forPreview}`, /not valid/],
      [
        'signature cut short',
        `/t/${INTERNAL}/thumb?exp=${exp}&sig=${sig.slice(0, 20)}`,
        /not valid/,
      ],
      ['no expiry', `/t/${INTERNAL}/thumb?sig=${sig}`, /not valid/],
      ['hostile expiry', `/t/${INTERNAL}/thumb?exp=1e99&sig=${sig}`, /not valid/],
      ['huge signature', `/t/${INTERNAL}/thumb?exp=${exp}&sig=${'A'.repeat(10_000)}`, /not valid/],
    ];
    for (const [name, url, detail] of cases) {
      const res = await app.request(url);
      expect({ name, status: res.status }).toEqual({ name, status: 404 });
      const body = await problem(res);
      expect({ name, detail: body.detail }).toEqual({
        name,
        detail: expect.stringMatching(detail),
      });
      expect(body.detail).toContain('reload the page');
    }
  });

  test('a reader token or API key serves it privately; revalidated on each use', async () => {
    const byToken = await app.request(`/t/${INTERNAL}/preview`, {
      headers: { authorization: `Bearer ${readerToken}` },
    });
    expect(byToken.status).toBe(200);
    expect(byToken.headers.get('cache-control')).toBe('private, no-cache');
    expect(byToken.headers.get('vary')).toBe('Accept-Encoding, Authorization, X-Api-Key');
    const keyHeaders: Array<Record<string, string>> = [
      { 'x-api-key': API_KEYS.reader },
      { authorization: `Bearer ${API_KEYS.reader}` },
    ];
    for (const headers of keyHeaders) {
      const byKey = await app.request(`/t/${INTERNAL}/thumb`, { headers });
      expect(byKey.status).toBe(200);
      expect(byKey.headers.get('cache-control')).toBe('private, no-cache');
    }
  });

  test("an API key is checked with core once, then core's answer is reused", async () => {
    const local = f.app();
    const before = f.core.requests.me;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        local.request(`/t/${INTERNAL}/thumb`, { headers: { 'x-api-key': API_KEYS.reader } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await local.request(`/t/${INTERNAL}/thumb`, { headers: { 'x-api-key': API_KEYS.reader } });
    expect(f.core.requests.me - before).toBe(1);
  });

  test('no role, a refused key, or an invalid token: never the image', async () => {
    const noRole = await f.issuer.tokenFor(null);
    const expired = await f.issuer.tokenFor('admin', { exp: Math.floor(Date.now() / 1000) - 3600 });
    const cases: Array<[string, Record<string, string>, number]> = [
      ['token without a role', { authorization: `Bearer ${noRole}` }, 404],
      ['key without a role', { 'x-api-key': API_KEYS.noRole }, 404],
      ['unknown key', { 'x-api-key': 'aex_nope_nope' }, 401],
      ['expired token', { authorization: `Bearer ${expired}` }, 401],
      ['garbage token', { authorization: 'Bearer not.a.jwt' }, 401],
      ['huge token', { authorization: `Bearer ${'a'.repeat(20_000)}` }, 401],
    ];
    for (const [name, headers, status] of cases) {
      for (const sha of [INTERNAL, MISSING]) {
        const res = await app.request(`/t/${sha}/thumb`, { headers });
        expect({ name, sha, status: res.status }).toEqual({ name, sha, status });
        const body = await problem(res);
        if (status === 401) expect(res.headers.get('www-authenticate')).toContain('invalid_token');
        expect(body.detail).not.toContain('exists');
      }
    }
    // A public image stays public, whatever credentials come along.
    const pub = await app.request(`/t/${PUBLIC}/thumb`, {
      headers: { authorization: 'Bearer junk' },
    });
    expect(pub.status).toBe(200);
  });

  test('a 304 only ever goes to a client that may see the image', async () => {
    const etag = `"${INTERNAL}-thumb"`;
    for (const inm of [etag, '*', `W/${etag}`]) {
      const res = await app.request(`/t/${INTERNAL}/thumb`, { headers: { 'if-none-match': inm } });
      expect({ inm, status: res.status }).toEqual({ inm, status: 404 });
    }
    const allowed = await app.request(await signed(INTERNAL), {
      headers: { 'if-none-match': etag },
    });
    expect(allowed.status).toBe(304);
    expect(allowed.headers.get('cache-control')).toStartWith('private');
    const token = await app.request(`/t/${INTERNAL}/thumb`, {
      headers: { 'if-none-match': etag, authorization: `Bearer ${readerToken}` },
    });
    expect(token.status).toBe(304);
  });

  test('ranges are served to allowed clients only', async () => {
    const url = await signed(INTERNAL);
    const part = await app.request(url, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${BYTES.length}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(BYTES.slice(10, 20));
    const past = await app.request(url, { headers: { range: 'bytes=99999-' } });
    expect(past.status).toBe(416);
    const anonymous = await app.request(`/t/${INTERNAL}/thumb`, {
      headers: { range: 'bytes=0-9' },
    });
    expect(anonymous.status).toBe(404);
  });

  test('whether an image is public is asked once and kept; a core outage is a 503, not a leak', async () => {
    const local = f.app();
    const before = f.core.requests['by-sha'];
    for (let i = 0; i < 4; i++) await local.request(`/t/${MISSING}/thumb`);
    await Promise.all([local.request(`/t/${PUBLIC}/thumb`), local.request(`/t/${PUBLIC}/preview`)]);
    expect(f.core.requests['by-sha'] - before).toBe(2);

    const cold = f.app();
    f.core.setDown(true);
    try {
      const res = await cold.request(`/t/${INTERNAL}/thumb`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect((await problem(res)).code).toBe('unavailable');
      // Signed URLs and tokens do not need core.
      expect((await cold.request(await signed(INTERNAL))).status).toBe(200);
      const byToken = await cold.request(`/t/${INTERNAL}/thumb`, {
        headers: { authorization: `Bearer ${readerToken}` },
      });
      expect(byToken.status).toBe(200);
    } finally {
      f.core.setDown(false);
    }
    // The failure was not kept.
    expect((await cold.request(`/t/${PUBLIC}/thumb`)).status).toBe(200);
  });
});
