import { afterAll, expect, test } from 'bun:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caddyVersion, startCaddy } from './caddy-server.ts';

const CADDY = process.env.CADDY_BIN ?? '/usr/bin/caddy';
const dir = await mkdtemp(join(tmpdir(), 'aex-bench-caddy-test-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

test.skipIf(!caddyVersion(CADDY))('caddy serves the files with the headers asked for', async () => {
  // A path with a space and a quote: the Caddyfile must quote it.
  const site = join(dir, 'the "site" dir');
  await mkdir(join(site, 't', 'abc'), { recursive: true });
  const bytes = new Uint8Array(5000).map((_, i) => i % 251);
  await writeFile(join(site, 't', 'abc', 'thumb'), bytes);
  const caddy = await startCaddy({
    bin: CADDY,
    dir: join(dir, 'caddy'),
    siteDir: site,
    headers: {
      'Content-Type': 'image/webp',
      'Cache-Control': 'public, max-age=31536000, immutable',
      Vary: 'Accept-Encoding, Authorization',
    },
    probePath: '/t/abc/thumb',
  });
  try {
    const res = await fetch(`${caddy.baseUrl}/t/abc/thumb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('vary')).toBe('Accept-Encoding, Authorization');
    expect(res.headers.get('etag')).toBeTruthy();
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect((await fetch(`${caddy.baseUrl}/t/abc/other`)).status).toBe(404);
  } finally {
    await caddy.stop();
  }
  // Stopped means stopped: the port no longer answers.
  await expect(fetch(`${caddy.baseUrl}/t/abc/thumb`)).rejects.toThrow();
});

test('a missing caddy is a clear error', async () => {
  await expect(
    startCaddy({ bin: '/nonexistent/caddy', dir, siteDir: dir, headers: {}, probePath: '/' }),
  ).rejects.toThrow(/no runnable caddy/);
});
