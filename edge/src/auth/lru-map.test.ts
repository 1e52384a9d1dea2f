import { describe, expect, test } from 'bun:test';
import { CachedLookup } from './cached-lookup.ts';
import { LruMap } from './lru-map.ts';

describe('LruMap', () => {
  test('keeps at most maxEntries, dropping the least recently used', () => {
    const map = new LruMap<string, number>({ maxEntries: 2 });
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1); // a is now the most recently used
    map.set('c', 3);
    expect([map.get('a'), map.get('b'), map.get('c'), map.size]).toEqual([1, undefined, 3, 2]);
  });

  test('entries expire after their lifetime; a per-entry lifetime overrides the map one', () => {
    let now = 0;
    const map = new LruMap<string, string>({ maxEntries: 10, ttlMs: 100, now: () => now });
    map.set('short', 'x', 10);
    map.set('default', 'y');
    now = 10;
    expect(map.get('short')).toBeUndefined();
    expect(map.get('default')).toBe('y');
    now = 100;
    expect(map.get('default')).toBeUndefined();
    expect(map.size).toBe(0);
  });

  test('a map that could hold nothing is refused', () => {
    expect(() => new LruMap({ maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('CachedLookup', () => {
  test('concurrent misses share one load; answers are kept, failures are not', async () => {
    let now = 0;
    const lookup = new CachedLookup<boolean>({ maxEntries: 10, ttlMs: 1000, now: () => now });
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((done) => setTimeout(done, 5));
      return false;
    };
    expect(await Promise.all([lookup.get('k', load), lookup.get('k', load)])).toEqual([
      false,
      false,
    ]);
    expect(await lookup.get('k', load)).toBe(false);
    expect(loads).toBe(1);
    now = 1000;
    await lookup.get('k', load);
    expect(loads).toBe(2);
    const failing = () => Promise.reject(new Error('core down'));
    await expect(lookup.get('f', failing)).rejects.toThrow('core down');
    expect(lookup.peek('f')).toBeUndefined();
    expect(await lookup.get('f', async () => true)).toBe(true);
  });

  test('forget during a load keeps the stale answer out', async () => {
    const lookup = new CachedLookup<boolean>({ maxEntries: 10, ttlMs: 60_000 });
    let release: (v: boolean) => void = () => {};
    const pending = lookup.get('img', () => new Promise<boolean>((done) => (release = done)));
    lookup.forget('img');
    release(true);
    expect(await pending).toBe(true);
    expect(lookup.peek('img')).toBeUndefined();
  });
});
