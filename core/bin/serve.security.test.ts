import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Problem, UploadResult } from '@aex/shared';
import { urlSigningKeyPath } from '@aex/shared/ports/secrets/url-signing-key';
import { freePort } from '@aex/shared/testing/processes';
import { serve } from './serve.ts';

// The all-in-one process as `aex serve all` runs it, in this process: edge in front of real
// core (PGlite, built-in issuer), the signing key made on first start, the JWKS read in-process.
const OBJECTS = resolve(import.meta.dir, '../../../shared/fixtures/images/objects');
const ADMIN = { email: 'sec-admin@aex.test', password: 'sec-admin-password' };

describe('aex serve all: edge security over real core', () => {
  let dataDir: string;
  let running: Awaited<ReturnType<typeof serve>>;
  let base: string;
  let token: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aex-serve-sec-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    running = await serve('all', {
      AEX_DATA_DIR: dataDir,
      PORT: String(port),
      AEX_PUBLIC_URL: base,
      AEX_WORKER_TASKS: 'none',
      AEX_ADMIN_EMAIL: ADMIN.email,
      AEX_ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'silent',
    });
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(login.status).toBe(200);
    token = ((await login.json()) as { accessToken: string }).accessToken;
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const upload = async (file: string) => {
    const res = await fetch(`${base}/api/v1/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: await readFile(join(OBJECTS, file)),
    });
    expect([200, 201]).toContain(res.status);
    return UploadResult.parse(await res.json()).image;
  };

  test('the signing key was made once, kept 0600 in the data folder', async () => {
    const info = await stat(urlSigningKeyPath(dataDir));
    expect(info.mode & 0o777).toBe(0o600);
    expect((await readFile(urlSigningKeyPath(dataDir), 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  test("an internal image: core's signed URL works at the edge, the bare one does not", async () => {
    const image = await upload('cat.jpg');
    expect(image.visibility).toBe('internal');
    const signed = await fetch(`${base}${image.urls.thumb}`);
    expect(signed.status).toBe(200);
    expect(signed.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    expect(signed.headers.get('content-type')).toBe('image/webp');
    const bare = `${base}/t/${image.sha256}/thumb`;
    const anonymous = await fetch(bare);
    expect(anonymous.status).toBe(404);
    expect(Problem.parse(await anonymous.json()).code).toBe('not_found');
    // The built-in issuer's token, checked at the edge with keys read in-process.
    const byToken = await fetch(bare, { headers: { authorization: `Bearer ${token}` } });
    expect(byToken.status).toBe(200);
    expect(byToken.headers.get('cache-control')).toBe('private, no-cache');
    await Promise.all([signed.arrayBuffer(), byToken.arrayBuffer()]);
  });

  test('a token altered by one character is refused at the edge', async () => {
    const [header, payload, signature] = token.split('.');
    const altered = `${header}.${payload}.${signature?.[0] === 'A' ? 'B' : 'A'}${signature?.slice(1)}`;
    const res = await fetch(`${base}/api/v1/images`, {
      headers: { authorization: `Bearer ${altered}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    const ok = await fetch(`${base}/api/v1/images`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
  });

  // Another image: the edge keeps "not public" answers for a few seconds (the cat's is kept).
  test('made public: the bare URL is served to anyone, immutable', async () => {
    const image = await upload('tench_n01440764.png');
    const patch = await fetch(`${base}/api/v1/images/${image.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'public' }),
    });
    expect(patch.status).toBe(200);
    const res = await fetch(`${base}/t/${image.sha256}/preview`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    await res.arrayBuffer();
  });
});
