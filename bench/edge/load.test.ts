import { afterAll, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareLoadGenerator } from './load.ts';

const dir = await mkdtemp(join(tmpdir(), 'aex-bench-load-test-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

test('the Node driver loads a real server over every path and reports what it saw', async () => {
  const seen = new Map<string, number>();
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      seen.set(path, (seen.get(path) ?? 0) + 1);
      if (request.headers.get('authorization') !== 'Bearer t')
        return new Response('no', { status: 401 });
      return path === '/missing'
        ? new Response('gone', { status: 404 })
        : new Response('x'.repeat(1000));
    },
  });
  try {
    const load = await prepareLoadGenerator({ node: 'node', dir });
    expect(load.describe).toMatch(/^autocannon \d+\.\d+\.\d+ on node v\d+/);
    const ticks: number[] = [];
    const r = await load.run(
      {
        origin: `http://127.0.0.1:${server.port}`,
        paths: ['/a', '/b', '/missing'],
        headers: { authorization: 'Bearer t' },
        connections: 4,
        pipelining: 1,
        seconds: 1,
      },
      (n) => ticks.push(n),
    );
    expect(ticks.length).toBeGreaterThanOrEqual(1);
    expect(r.requests).toBeGreaterThan(30);
    expect(r.statusCodes['200']).toBeGreaterThan(0);
    // One request in three is the missing path: counted as non-2xx, never as success.
    expect(r.non2xx).toBe(r.statusCodes['404'] ?? -1);
    expect(r.non2xx).toBeGreaterThan(r.requests / 4);
    expect(r.errors).toBe(0);
    expect(r.bytes).toBeGreaterThan((r.statusCodes['200'] ?? 0) * 1000);
    const histogramCount = r.latency.reduce((sum, [, n]) => sum + n, 0);
    expect(histogramCount).toBeGreaterThanOrEqual(r.requests);
    expect(r.cpuSeconds).toBeGreaterThan(0);
    for (const path of ['/a', '/b', '/missing']) expect(seen.get(path)).toBeGreaterThan(5);
  } finally {
    await server.stop(true);
  }
});

test('a load generator that cannot start says so', async () => {
  await expect(prepareLoadGenerator({ node: '/nonexistent/node', dir })).rejects.toThrow(
    /no runnable node/,
  );
});
