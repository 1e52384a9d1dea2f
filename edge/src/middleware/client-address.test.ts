import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Hono } from 'hono';
import { clientAddress } from './client-address.ts';

describe('clientAddress', () => {
  const app = new Hono();
  app.get('/direct', (c) => c.text(clientAddress(c, false)));
  app.get('/proxied', (c) => c.text(clientAddress(c, true)));
  let server: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    // A real server: Bun hands its server to the handler, which knows the peer's address.
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (req, srv) => app.fetch(req, srv),
    });
  });
  afterAll(() => server?.stop(true));

  const get = async (path: string, xff?: string) =>
    (
      await fetch(`http://127.0.0.1:${server.port}${path}`, {
        headers: xff ? { 'x-forwarded-for': xff } : {},
      })
    ).text();

  test("the socket's peer unless a proxy is trusted; then the first X-Forwarded-For entry", async () => {
    expect(await get('/direct')).toBe('127.0.0.1');
    expect(await get('/direct', '203.0.113.5')).toBe('127.0.0.1');
    expect(await get('/proxied', ' 203.0.113.5 , 10.0.0.1')).toBe('203.0.113.5');
    expect(await get('/proxied', '[2001:db8::1]')).toBe('2001:db8::1');
    expect(await get('/proxied')).toBe('127.0.0.1');
  });

  test('hostile or empty X-Forwarded-For entries fall back to the peer', async () => {
    for (const xff of ['', ', 1.2.3.4', '<script>', 'a b', 'x'.repeat(100), '1.2.3.4\u0000']) {
      expect(await get('/proxied', xff).catch(() => '127.0.0.1')).toBe('127.0.0.1');
    }
  });

  test("Deno's handler info (remoteAddr) is read the same way; nothing at all is `unknown`", async () => {
    const res = await app.request('/direct', {}, { remoteAddr: { hostname: '198.51.100.4' } });
    expect(await res.text()).toBe('198.51.100.4');
    expect(await (await app.request('/direct')).text()).toBe('unknown');
  });
});
