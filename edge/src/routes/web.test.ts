import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AexEnv } from '@aex/shared/http';
import { Hono } from 'hono';
import { registerWeb } from './web.ts';

describe('static web app', () => {
  let root: string;
  let app: Hono<AexEnv>;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aex-web-'));
    await mkdir(join(root, 'site/assets'), { recursive: true });
    await writeFile(join(root, 'site/index.html'), '<!doctype html><title>AEX</title>');
    await writeFile(join(root, 'site/assets/app.js'), 'console.log(1)');
    await writeFile(join(root, 'secret.txt'), 'do not serve');
    app = new Hono<AexEnv>();
    registerWeb(app, { dir: join(root, 'site') });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  test('serves files with their type; the page is revalidated, assets cached', async () => {
    const page = await app.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const js = await app.request('/assets/app.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log(1)');
  });

  test('client-side routes get index.html', async () => {
    const res = await app.request('/albums/42');
    expect(await res.text()).toContain('<title>AEX</title>');
  });

  test('no path escapes the folder, encoded or not', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%E0%A4%A',
    ]) {
      const res = await app.request(path);
      expect(await res.text()).not.toContain('do not serve');
    }
  });
});
