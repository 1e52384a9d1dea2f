import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CADDY_BIN, type CaddyProcess, caddyEnv, startCaddy } from '@aex/shared/testing/caddy';
import { freePort, REPO_ROOT } from '@aex/shared/testing/processes';

// The root Caddyfile, run by a real Caddy in front of stand-in edges (Bun.serve) that answer
// like the real edge on the routes Caddy proxies.

const CADDYFILE = join(REPO_ROOT, 'Caddyfile');
const WEB_ROOT = join(REPO_ROOT, 'web/public');
const INDEX_HTML = readFileSync(join(WEB_ROOT, 'index.html'), 'utf8');
const THUMB = new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50]);
const IMMUTABLE = 'public, max-age=31536000, immutable';
const sha = (i: number) => i.toString(16).padStart(64, '0');

type Echo = { edge: string; headers: Record<string, string> };

/** A stand-in edge; `probes` collects the User-Agent of every /healthz request. */
function standInEdge(name: string, probes: string[]) {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const { pathname } = new URL(request.url);
      // What a real edge (or Bun) may send too; Caddy must not repeat or leak them.
      const headers = { 'x-edge': name, 'x-content-type-options': 'nosniff', server: 'aex-edge' };
      if (pathname === '/healthz') {
        probes.push(request.headers.get('user-agent') ?? '');
        return Response.json({ status: 'ok' }, { headers });
      }
      if (pathname === '/api/v1/ping') {
        return Response.json(
          { edge: name, headers: Object.fromEntries(request.headers) },
          { headers },
        );
      }
      if (/^\/t\/[0-9a-f]{64}\/thumb$/.test(pathname)) {
        return new Response(THUMB, {
          headers: { ...headers, 'content-type': 'image/webp', 'cache-control': IMMUTABLE },
        });
      }
      return new Response('not found', { status: 404, headers });
    },
  });
}

/** Runs a caddy subcommand on the Caddyfile with only `env` for its placeholders. */
function caddy(args: string[], env: Record<string, string>) {
  const run = Bun.spawnSync([CADDY_BIN ?? 'caddy', ...args, '--config', CADDYFILE], {
    env: caddyEnv(tmpdir(), env),
  });
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

const title = CADDY_BIN ? 'Caddyfile' : 'Caddyfile (skipped: caddy not on PATH)';

describe.skipIf(!CADDY_BIN)(title, () => {
  const probes: string[] = [];
  let edges: Array<ReturnType<typeof standInEdge>> = [];
  let proxy: CaddyProcess | undefined;
  let site = '';
  const local = { AEX_SITE_ADDRESS: 'http://127.0.0.1:8443', AEX_WEB_ROOT: WEB_ROOT };

  beforeAll(async () => {
    edges = [standInEdge('a', probes), standInEdge('b', probes)];
    site = `http://127.0.0.1:${await freePort()}`;
    // A third upstream is down from the start: no request may fail because of it.
    const down = `127.0.0.1:${await freePort()}`;
    proxy = await startCaddy({
      caddyfile: CADDYFILE,
      env: {
        AEX_SITE_ADDRESS: site,
        AEX_EDGE_UPSTREAMS: [...edges.map((e) => `127.0.0.1:${e.port}`), down].join(' '),
        AEX_WEB_ROOT: WEB_ROOT,
      },
      readyUrl: `${site}/`,
    });
  });

  afterAll(async () => {
    await proxy?.stop();
    for (const edge of edges) await edge.stop(true);
  });

  test('validates in local mode', () => {
    const run = caddy(['validate', '--adapter', 'caddyfile'], local);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toContain('Valid configuration');
  });

  test('adapts to plain HTTP with automatic HTTPS and admin off in local mode', () => {
    const config = JSON.parse(caddy(['adapt', '--adapter', 'caddyfile'], local).stdout);
    expect(config.admin).toEqual({ disabled: true });
    expect(config.apps.http.servers.srv0.automatic_https.disable).toBe(true);
  });

  test('adapts to automatic HTTPS with ACME and an admin endpoint in production mode', () => {
    const run = caddy(['adapt', '--adapter', 'caddyfile'], {
      AEX_SITE_ADDRESS: 'photos.example.com',
      AEX_AUTO_HTTPS: 'ignore_loaded_certs',
      AEX_TLS: 'ops@example.com',
      AEX_CADDY_ADMIN: 'localhost:2019',
    });
    expect(run.code, run.stderr).toBe(0);
    const config = JSON.parse(run.stdout);
    const server = config.apps.http.servers.srv0;
    expect(server.listen).toEqual([':443']);
    expect(server.automatic_https?.disable).toBeUndefined();
    const issuers = config.apps.tls.automation.policies[0].issuers;
    expect(issuers).toContainEqual({ module: 'acme', email: 'ops@example.com' });
    expect(config.admin).toEqual({ listen: 'localhost:2019' });
  });

  test('serves the web app, with index.html for client routes', async () => {
    for (const path of ['/', '/some/client/route']) {
      const res = await fetch(`${site}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toStartWith('text/html');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toBe(INDEX_HTML);
    }
  });

  test('answers a missing built asset with 404, not index.html', async () => {
    const res = await fetch(`${site}/assets/app-0123abcd.js`);
    expect(res.status).toBe(404);
    expect(res.headers.get('cache-control') ?? '').not.toContain('immutable');
  });

  test('sets security headers once, and no HSTS over plain HTTP', async () => {
    for (const path of ['/', '/api/v1/ping', `/t/${sha(1)}/thumb`]) {
      const res = await fetch(`${site}${path}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
      expect(res.headers.get('strict-transport-security')).toBeNull();
      expect(res.headers.get('server')).toBeNull();
    }
  });

  test.each(['gzip', 'zstd'])('compresses HTML with %s when asked', async (encoding) => {
    const res = await fetch(`${site}/`, {
      headers: { 'accept-encoding': encoding },
      decompress: false,
    });
    expect(res.headers.get('content-encoding')).toBe(encoding);
    const body = new Uint8Array(await res.arrayBuffer());
    const plain = encoding === 'gzip' ? Bun.gunzipSync(body) : Bun.zstdDecompressSync(body);
    expect(new TextDecoder().decode(plain)).toBe(INDEX_HTML);
  });

  test('proxies /api to the edges with the client request id and no cache header', async () => {
    const served = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${site}/api/v1/ping`, { headers: { 'x-request-id': `req-${i}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBeNull();
      const echo = (await res.json()) as Echo;
      expect(echo.headers['x-request-id']).toBe(`req-${i}`);
      served.add(echo.edge);
    }
    expect([...served].every((name) => name === 'a' || name === 'b')).toBe(true);
  });

  test('gives a request without an id one of its own', async () => {
    const echo = (await (await fetch(`${site}/api/v1/ping`)).json()) as Echo;
    expect(echo.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('proxies thumbnails and /healthz, keeping the edge cache headers', async () => {
    const res = await fetch(`${site}/t/${sha(1)}/thumb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(THUMB);
    expect(await (await fetch(`${site}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  test('probes the edges on /healthz by itself', async () => {
    // Requests proxied for a client carry its User-Agent (Bun's here); Caddy's own active
    // health checks do not. The first one runs when Caddy starts.
    const probed = () => probes.some((agent) => !agent.startsWith('Bun/'));
    const deadline = Date.now() + 6000;
    while (!probed() && Date.now() < deadline) await Bun.sleep(50);
    expect(probed()).toBe(true);
  });

  test('sends a thumbnail to the same edge, and to another once that edge is gone', async () => {
    const edgeOf = async (i: number) =>
      (await fetch(`${site}/t/${sha(i)}/thumb`)).headers.get('x-edge');
    const owners = new Map<number, string | null>();
    for (let i = 0; i < 16; i++) owners.set(i, await edgeOf(i));
    // In another order: a round robin would now give other answers.
    for (let i = 15; i >= 0; i--) expect(await edgeOf(i)).toBe(owners.get(i) ?? null);
    // An image that edge b serves; b then goes away between two health probes, as in a
    // rolling deploy: the request is retried on a, never answered with a 502.
    const onB = [...owners].find(([, edge]) => edge === 'b')?.[0];
    expect(onB).toBeDefined();
    await edges[1]?.stop(true);
    const res = await fetch(`${site}/t/${sha(onB ?? 0)}/thumb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edge')).toBe('a');
  });

  test('serves HTTPS from its local CA with HSTS in local TLS mode', async () => {
    const tlsSite = `https://127.0.0.1:${await freePort()}`;
    const env = {
      AEX_SITE_ADDRESS: tlsSite,
      AEX_AUTO_HTTPS: 'disable_redirects',
      AEX_EDGE_UPSTREAMS: `127.0.0.1:${edges[0]?.port}`,
      AEX_WEB_ROOT: WEB_ROOT,
    };
    // Without skip_install_trust Caddy would add its CA to the system trust store (as root,
    // silently): check the adapted config before running it.
    const config = JSON.parse(caddy(['adapt', '--adapter', 'caddyfile'], env).stdout);
    expect(config.apps.pki?.certificate_authorities?.local?.install_trust).toBe(false);
    const tls = await startCaddy({
      caddyfile: CADDYFILE,
      env,
      readyUrl: `${tlsSite}/`,
      insecureTls: true,
    });
    try {
      const res = await fetch(`${tlsSite}/`, { tls: { rejectUnauthorized: false } });
      expect(await res.text()).toBe(INDEX_HTML);
      expect(res.headers.get('strict-transport-security')).toStartWith('max-age=');
    } finally {
      await tls.stop();
    }
  });
});
