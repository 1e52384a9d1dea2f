import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AexEnv } from '@aex/shared/http';
import { Hono } from 'hono';
import { registerWeb } from '../routes/web.ts';
import { type SecurityFixture, startSecurityFixture } from '../testing/security-fixture.ts';
import { securityHeaders } from './security-headers.ts';

describe('security headers', () => {
  let f: SecurityFixture;
  beforeAll(async () => {
    f = await startSecurityFixture();
  });
  afterAll(() => f?.stop());

  function expectHardened(res: Response): void {
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
      "base-uri 'self'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  }

  test('on API answers, problems, 401s and 429s alike', async () => {
    const app = f.app({ AEX_RATE_LIMIT: '1/h', AEX_RATE_BURST: '1' });
    const ok = await app.request('/api/v1/images');
    const limited = await app.request('/api/v1/images');
    const unauth = f
      .app()
      .request('/api/v1/images', { headers: { authorization: 'Bearer x.y.z' } });
    const missing = await f.app().request('/nope');
    expect([ok.status, limited.status, (await unauth).status, missing.status]).toEqual([
      200, 429, 401, 404,
    ]);
    for (const res of [ok, limited, await unauth, missing]) expectHardened(res);
  });

  test("the CSP lets the web app reach an external issuer's token endpoint, and nothing else", async () => {
    const res = await f.app().request('/healthz');
    expectHardened(res);
    const connect = /connect-src ([^;]*)/.exec(
      res.headers.get('content-security-policy') ?? '',
    )?.[1];
    expect(connect).toBe(`'self' ${f.issuer.issuer}`);
  });

  test("a route's own header is kept: the web app's pages get the policy too", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-web-csp-'));
    try {
      await writeFile(join(dir, 'index.html'), '<!doctype html><title>AEX</title>');
      const app = new Hono<AexEnv>();
      app.use(securityHeaders());
      app.get('/own', () => new Response('x', { headers: { 'x-frame-options': 'SAMEORIGIN' } }));
      registerWeb(app, { dir });
      expectHardened(await app.request('/'));
      expect((await app.request('/own')).headers.get('x-frame-options')).toBe('SAMEORIGIN');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
