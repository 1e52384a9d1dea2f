import { describe, expect, test } from 'bun:test';
import { hammingDistance } from '../media/perceptual-hash.ts';
import { bandPlan, nearDuplicateGroups } from './near-duplicates.ts';

/** A deterministic 64-bit generator (xorshift), so a failure can be replayed. */
function random64(seed: bigint): () => bigint {
  let x = seed;
  return () => {
    x ^= (x << 13n) & 0xffff_ffff_ffff_ffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffff_ffff_ffff_ffffn;
    return BigInt.asIntN(64, x);
  };
}

/** Flips `bits` distinct random bits of `hash`. */
function flip(hash: bigint, bits: number, next: () => bigint): bigint {
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(Number(BigInt.asUintN(64, next()) % 64n));
  let out = hash;
  for (const b of chosen) out ^= 1n << BigInt(b);
  return BigInt.asIntN(64, out);
}

/** The same groups by brute force: all pairs, then connected components. */
function bruteForce(items: Array<{ id: string; phash: bigint }>, d: number): string[][] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : find(parent[i] as number));
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      if (hammingDistance(items[i]?.phash ?? 0n, items[j]?.phash ?? 0n) <= d) {
        parent[find(i)] = find(j);
      }
    }
  }
  const groups = new Map<number, string[]>();
  items.forEach((item, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), item.id]);
  });
  return normalize([...groups.values()].filter((g) => g.length > 1));
}

const normalize = (groups: string[][]) => groups.map((g) => [...g].sort()).sort();

/** Random hashes with planted clusters of near copies (1–`spread` bits away from a seed). */
function library(n: number, clusters: number, spread: number, seed: bigint) {
  const next = random64(seed);
  const items = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, phash: next() }));
  for (let c = 0; c < clusters; c++) {
    const base = next();
    items.push({ id: `c${c}-0`, phash: base });
    for (let k = 1; k <= 3; k++) {
      items.push({ id: `c${c}-${k}`, phash: flip(base, 1 + ((c + k) % spread), next) });
    }
  }
  return items;
}

describe('near-duplicate groups', () => {
  test.each([0, 1, 3, 6, 8, 12, 16])('match brute force at distance %i', async (d) => {
    const items = library(800, 40, Math.max(1, d), BigInt(1000 + d));
    const found = await nearDuplicateGroups(items, d);
    expect(normalize(found.map((g) => g.ids))).toEqual(bruteForce(items, d));
    for (const g of found) {
      const hashes = g.ids.map((id) => items.find((i) => i.id === id)?.phash ?? 0n);
      let max = 0;
      for (const a of hashes) for (const b of hashes) max = Math.max(max, hammingDistance(a, b));
      expect(g.maxDistance).toBe(max);
    }
  });

  test('chains join: a–b and b–c close, a–c far, is one group', async () => {
    const a = 0n;
    const b = 0b111111n; // 6 bits from a
    const c = 0b111111_111111n; // 6 bits from b, 12 from a
    const groups = await nearDuplicateGroups(
      [
        { id: 'a', phash: a },
        { id: 'b', phash: b },
        { id: 'c', phash: c },
      ],
      6,
    );
    expect(groups).toEqual([{ ids: ['a', 'b', 'c'], maxDistance: 12 }]);
  });

  test('the sign bit counts like any other (hashes are stored as signed bigint)', async () => {
    const groups = await nearDuplicateGroups(
      [
        { id: 'neg', phash: -1n },
        { id: 'pos', phash: BigInt.asIntN(64, 0xffff_ffff_ffff_fffen) },
        { id: 'far', phash: 0n },
      ],
      1,
    );
    expect(groups).toEqual([{ ids: ['neg', 'pos'], maxDistance: 1 }]);
  });

  test('plans bands so that the pigeonhole bound holds', () => {
    for (let d = 0; d <= 16; d++) {
      const { bands, radius } = bandPlan(100_000, d);
      expect(bands.reduce((s, b) => s + b, 0)).toBe(64);
      // Some band must differ in at most `radius` bits whenever the whole differs in ≤ d.
      expect(bands.length * (radius + 1)).toBeGreaterThan(d);
      expect(Math.max(...bands)).toBeLessThanOrEqual(16);
    }
    expect(bandPlan(100_000, 6)).toEqual({ bands: [16, 16, 16, 16], radius: 1 });
  });

  test('100,000 hashes at the default distance take well under a few seconds', async () => {
    const items = library(100_000, 500, 6, 42n);
    const started = performance.now();
    const groups = await nearDuplicateGroups(items, 6);
    const ms = performance.now() - started;
    console.log(
      JSON.stringify({ name: 'near-duplicates', n: items.length, d: 6, ms: Math.round(ms) }),
    );
    // Every planted cluster is found whole (random 64-bit hashes are ~32 bits apart).
    expect(groups.filter((g) => g.ids.length === 4)).toHaveLength(500);
    expect(ms).toBeLessThan(5_000);
  });
});
