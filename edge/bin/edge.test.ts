import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problem } from '@aex/shared';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { createS3BlobStore } from '@aex/shared/ports/blob-store/s3';
import { freePort } from '@aex/shared/testing/processes';
import { type S3TestServer, startS3rver } from '@aex/shared/testing/s3rver';
import { type EdgeProcess, edgeRuntimes, startEdge } from '../testing/edge-process.ts';
import { startTestOidcProvider, type TestOidcProvider } from '../testing/oidc-provider.ts';

// The issue: the edge "runs on Bun and on Deno from the same source; the tests run both".
// Each runtime starts edge/bin/edge.ts as a separate process, against the same blob store
// and a real HTTP server standing in for core.
const SHA = 'd'.repeat(64);
const THUMB = crypto.getRandomValues(new Uint8Array(5000));

describe.each(await edgeRuntimes())('edge/bin/edge.ts on %s', (runtime, { missing, it, title }) => {
  let dir: string;
  let edge: EdgeProcess;
  let core: ReturnType<typeof Bun.serve>;
  let provider: TestOidcProvider;
  const seen: Array<{ method: string; path: string; headers: Headers; body: string }> = [];

  beforeAll(async () => {
    if (missing) return;
    dir = await mkdtemp(join(tmpdir(), `aex-edge-${runtime}-`));
    const blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
    await blobs.put(`derived/${SHA}/thumb.webp`, THUMB, { contentType: 'image/webp' });
    core = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(request) {
        const url = new URL(request.url);
        seen.push({
          method: request.method,
          path: url.pathname + url.search,
          headers: request.headers,
          body: await request.text(),
        });
        // The edge may ask core whether an image is public (issue 5's design): it is.
        if (url.pathname === `/api/v1/public/images/by-sha/${SHA}`) {
          return Response.json({ sha256: SHA, visibility: 'public' });
        }
        if (url.pathname.startsWith('/api/v1/public/images/by-sha/')) {
          return Response.json({ code: 'not_found' }, { status: 404 });
        }
        return Response.json({ from: 'core', path: url.pathname }, { status: 201 });
      },
    });
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    provider = await startTestOidcProvider({
      clientId: 'aex-web',
      redirectUri: `${publicUrl}/auth/callback`,
    });
    edge = await startEdge(runtime, port, {
      AEX_DATA_DIR: dir,
      CORE_URL: `http://127.0.0.1:${core.port}`,
      AEX_WEB_DIR: join(dir, 'no-web'),
      AEX_URL_SIGNING_KEY: 'ab'.repeat(32),
      AEX_OIDC_ISSUER: provider.issuer,
      AEX_PUBLIC_URL: publicUrl,
    });
  }, 90_000);
  afterAll(async () => {
    if (missing) return;
    const code = await edge?.stop();
    await core?.stop(true);
    await provider?.stop();
    await rm(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it(title('says which runtime serves, and /healthz answers'), async () => {
    const res = await fetch(`${edge.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    const listening = edge.logs().find((l) => l.msg === 'edge listening');
    expect(listening?.runtime).toBe(runtime);
  });

  it(
    title('a thumbnail from the blob store, with its ETag; the ETag again gives 304'),
    async () => {
      const res = await fetch(`${edge.url}/t/${SHA}/thumb`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      expect(res.headers.get('content-length')).toBe(String(THUMB.length));
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      const etag = res.headers.get('etag');
      expect(etag).toBe(`"${SHA}-thumb"`);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(THUMB);
      const again = await fetch(`${edge.url}/t/${SHA}/thumb`, {
        headers: { 'if-none-match': etag ?? '' },
      });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(etag);
      expect(await again.text()).toBe('');
    },
  );

  it(title('Range gives 206 with the bytes asked; past the end gives 416'), async () => {
    const res = await fetch(`${edge.url}/t/${SHA}/thumb`, { headers: { range: 'bytes=100-199' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 100-199/${THUMB.length}`);
    expect(res.headers.get('content-length')).toBe('100');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(THUMB.slice(100, 200));
    const suffix = await fetch(`${edge.url}/t/${SHA}/thumb`, { headers: { range: 'bytes=-10' } });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(THUMB.slice(-10));
    const past = await fetch(`${edge.url}/t/${SHA}/thumb`, { headers: { range: 'bytes=9999-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${THUMB.length}`);
    // If-Range with another ETag: the whole (changed) representation instead.
    const stale = await fetch(`${edge.url}/t/${SHA}/thumb`, {
      headers: { range: 'bytes=0-9', 'if-range': '"old"' },
    });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(THUMB.length);
  });

  it(title('bad addresses are problem+json and the process stays up'), async () => {
    for (const [path, status] of [
      ['/t/not-a-hash/thumb', 400],
      [`/t/${SHA}/original`, 404],
      [`/t/${'e'.repeat(64)}/thumb`, 404],
    ] as const) {
      const res = await fetch(`${edge.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      Problem.parse(await res.json());
    }
    expect((await fetch(`${edge.url}/healthz`)).status).toBe(200);
  });

  it(title('/api/* goes to core with its body, query and request id'), async () => {
    const res = await fetch(`${edge.url}/api/v1/albums?x=1`, {
      method: 'POST',
      body: JSON.stringify({ name: 'trip' }),
      headers: { 'content-type': 'application/json', 'x-request-id': `edge-${runtime}-1` },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ from: 'core', path: '/api/v1/albums' });
    expect(res.headers.get('x-request-id')).toBe(`edge-${runtime}-1`);
    const forwarded = seen.find((r) => r.path === '/api/v1/albums?x=1');
    expect(forwarded?.method).toBe('POST');
    expect(forwarded?.body).toBe('{"name":"trip"}');
    expect(forwarded?.headers.get('x-request-id')).toBe(`edge-${runtime}-1`);
    expect(forwarded?.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it(title('web login: PKCE sign-in at the provider, then /api carries its token'), async () => {
    const login = await fetch(`${edge.url}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const loginCookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    expect(loginCookie).toStartWith('aex-login=v1.');
    const authorize = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' });
    const back = authorize.headers.get('location') ?? '';
    expect(back).toStartWith(`${edge.url}/auth/callback?`);
    const callback = await fetch(back, { headers: { cookie: loginCookie }, redirect: 'manual' });
    expect(callback.status).toBe(303);
    const session = callback.headers
      .getSetCookie()
      .find((c) => c.startsWith('aex-session='))
      ?.split(';')[0];
    expect(session).toStartWith('aex-session=v1.');
    const me = await fetch(`${edge.url}/api/v1/auth/me`, { headers: { cookie: session ?? '' } });
    expect(me.status).toBe(201);
    const reached = seen.findLast((r) => r.path === '/api/v1/auth/me');
    expect(reached?.headers.get('authorization')).toBe(`Bearer ${provider.accessTokens.at(-1)}`);
    // A forged state is refused on this runtime too.
    const forged = new URL(back);
    forged.searchParams.set('state', 'forged');
    const refused = await fetch(forged, { headers: { cookie: loginCookie } });
    expect(refused.status).toBe(400);
  });

  it(title('an S3 bucket as the origin (the AWS SDK on this runtime)'), async () => {
    const s3: S3TestServer = await startS3rver();
    const bucket = `edge-${runtime}`;
    try {
      await s3.createBucket(bucket);
      const settings = {
        bucket,
        endpoint: s3.endpoint,
        region: 'us-east-1',
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
        prefix: 'aex/',
      };
      const store = createS3BlobStore(settings);
      await store.put(`derived/${SHA}/preview.webp`, THUMB, { contentType: 'image/webp' });
      await store.close();
      const fromS3 = await startEdge(runtime, await freePort(), {
        AEX_DATA_DIR: join(dir, 's3-edge'),
        CORE_URL: `http://127.0.0.1:${core.port}`,
        AEX_WEB_DIR: join(dir, 'no-web'),
        AEX_URL_SIGNING_KEY: 'ab'.repeat(32),
        S3_BUCKET: bucket,
        S3_ENDPOINT: s3.endpoint,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        S3_PREFIX: 'aex/',
      });
      try {
        const res = await fetch(`${fromS3.url}/t/${SHA}/preview`);
        expect(res.status).toBe(200);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(THUMB);
        const missing = await fetch(`${fromS3.url}/t/${SHA}/thumb`);
        expect(missing.status).toBe(404);
      } finally {
        expect(await fromS3.stop()).toBe(0);
      }
    } finally {
      await s3.stop();
    }
  }, 90_000);

  it(title('core down: /api answers 503 problem+json with Retry-After'), async () => {
    const down = await startEdge(runtime, await freePort(), {
      AEX_DATA_DIR: dir,
      CORE_URL: `http://127.0.0.1:${await freePort()}`,
      AEX_WEB_DIR: join(dir, 'no-web'),
      AEX_URL_SIGNING_KEY: 'ab'.repeat(32),
    });
    try {
      const res = await fetch(`${down.url}/api/v1/images`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(Problem.parse(await res.json()).code).toBe('unavailable');
    } finally {
      expect(await down.stop()).toBe(0);
    }
  }, 90_000);
});

describe('edge/bin/edge.ts configuration', () => {
  test('bad variables are listed and the process exits 2', async () => {
    const proc = Bun.spawn([process.execPath, 'edge/bin/edge.ts'], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, PORT: 'eighty', AEX_NATS_WS_URL: 'http://nats:8080' },
      stderr: 'pipe',
      stdout: 'pipe',
    });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(2);
    expect(stderr).toContain('PORT');
    expect(stderr).toContain('AEX_NATS_WS_URL');
    expect(stderr).toContain('Fix these environment variables');
  });

  test('no URL signing key (variable or key file) → exit 2 saying to set it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-edge-nokey-'));
    try {
      const env: Record<string, string | undefined> = { ...process.env, AEX_DATA_DIR: dir };
      delete env.AEX_URL_SIGNING_KEY;
      const proc = Bun.spawn([process.execPath, 'edge/bin/edge.ts'], {
        cwd: join(import.meta.dirname, '../..'),
        env,
        stderr: 'pipe',
        stdout: 'pipe',
      });
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(code).toBe(2);
      expect(stderr).toContain('AEX_URL_SIGNING_KEY');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
