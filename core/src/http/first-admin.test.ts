import { afterAll, expect, test } from 'bun:test';
import { TokenResponse } from '@aex/shared';
import { type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

let h: CoreHarness | undefined;
afterAll(async () => {
  await h?.stop();
});

test('a first start without AEX_ADMIN_PASSWORD prints a working password on stdout', async () => {
  const printed: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    printed.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    // Empty values count as unset: the harness's admin password is taken away.
    h = await startCoreHarness('embedded', { AEX_ADMIN_EMAIL: '', AEX_ADMIN_PASSWORD: '' });
  } finally {
    process.stdout.write = write;
  }
  const banners = printed.filter((p) => p.includes('only this once'));
  expect(banners).toHaveLength(1);
  const password = /password: +(\S+)/.exec(banners[0] ?? '')?.[1];
  expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
  const res = await h.request('/api/v1/auth/login', {
    as: 'anonymous',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@localhost', password }),
  });
  expect(res.status).toBe(200);
  TokenResponse.parse(await res.json());
}, 60_000);
