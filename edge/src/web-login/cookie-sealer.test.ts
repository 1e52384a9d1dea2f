import { describe, expect, test } from 'bun:test';
import { createCookieSealer } from './cookie-sealer.ts';

const secret = (byte: number) => new Uint8Array(32).fill(byte);
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('cookie sealer', () => {
  test('round trip; the sealed text shows nothing of the value', async () => {
    const sealer = createCookieSealer(secret(1));
    const sealed = await sealer.seal('login', { state: 'visible-state' }, inAnHour());
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(atob(sealed.slice(3).replace(/-/g, '+').replace(/_/g, '/'))).not.toContain('visible');
    expect(await sealer.open('login', sealed)).toEqual({ state: 'visible-state' });
    // Sealed twice, the same value gives different texts (a fresh IV each time).
    expect(await sealer.seal('login', { state: 'visible-state' }, inAnHour())).not.toBe(sealed);
  });

  test('another purpose, another key, an altered byte or an expiry past: null', async () => {
    const sealer = createCookieSealer(secret(1));
    const sealed = await sealer.seal('login', { a: 1 }, inAnHour());
    expect(await sealer.open('session', sealed)).toBeNull();
    expect(await createCookieSealer(secret(2)).open('login', sealed)).toBeNull();
    for (let i = 3; i < sealed.length; i++) {
      const flipped = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1);
      expect(await sealer.open('login', flipped)).toBeNull();
    }
    const expiring = await sealer.seal('login', { a: 1 }, Math.floor(Date.now() / 1000) + 60);
    expect(await sealer.open('login', expiring)).toEqual({ a: 1 });
    expect(await sealer.open('login', expiring, Date.now() + 61_000)).toBeNull();
  });

  test('what is not a sealed value at all: null, never a throw', async () => {
    const sealer = createCookieSealer(secret(1));
    for (const text of ['', 'v1.', 'v1.!!!', 'v2.AAAA', 'v1.AAAA', `v1.${'A'.repeat(40_000)}`]) {
      expect(await sealer.open('login', text)).toBeNull();
    }
  });

  test('a short secret is refused at construction', () => {
    expect(() => createCookieSealer(new Uint8Array(16))).toThrow('at least 32 bytes');
  });
});
