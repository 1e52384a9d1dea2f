import { AexError, type DuplicateGroups, type Image, type ResolveDuplicates } from '@aex/shared';
import type { z } from 'zod';
import type { ImageRepository } from '../db/image-repository.ts';
import type { ImageRow } from '../db/schema.ts';
import { deletedEvents, mergeDuplicates } from './image-edits.ts';
import type { ImageQueryService } from './image-queries.ts';
import type { ImageBlobRemover } from './remove-image-blobs.ts';

/** A set of images whose hashes chain within the distance, and their largest distance. */
export interface NearDuplicateGroup {
  ids: string[];
  maxDistance: number;
}

/**
 * Groups of near-duplicates: the connected components of the graph that links two images
 * when their 64-bit perceptual hashes differ in at most `maxDistance` bits.
 *
 * Multi-index hashing (Norouzi et al., 2012) finds the links without comparing all n²/2
 * pairs: the 64 bits are cut into m bands; if two hashes differ in at most d bits, some band
 * differs in at most ⌊d/m⌋ bits (else the total would exceed d). So every image only looks in
 * each band's buckets within ⌊d/m⌋ flips of its own band value, and each candidate is checked
 * on all 64 bits. With b-bit bands and r = ⌊d/m⌋ the expected work for n uniformly spread
 * hashes is about n·m·V(b,r)·(1 + n/2^b) comparisons, V(b,r) = Σ_{i≤r} C(b,i); m is picked
 * to minimise it. Measured on 100,000 random hashes: d = 6 (m = 4, b = 16, r = 1) ≈ 0.3 s,
 * d = 10 ≈ 1.3 s, d = 12 ≈ 2.5 s, d = 16 ≈ 15 s — at 16 bits unrelated photos link up anyway
 * (one component of 97k). The work yields to the event loop, so the server stays responsive.
 */
export async function nearDuplicateGroups(
  items: Array<{ id: string; phash: bigint }>,
  maxDistance: number,
): Promise<NearDuplicateGroup[]> {
  const n = items.length;
  const hashes = new BigUint64Array(n);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  items.forEach((item, i) => {
    const h = BigInt.asUintN(64, item.phash);
    hashes[i] = h;
    hi[i] = Number(h >> 32n);
    lo[i] = Number(h & 0xffff_ffffn);
  });
  const distance = (i: number, j: number) =>
    popcount32(((hi[i] as number) ^ (hi[j] as number)) >>> 0) +
    popcount32(((lo[i] as number) ^ (lo[j] as number)) >>> 0);

  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      const p = parent[i] as number;
      parent[i] = parent[p] as number; // path halving
      i = p;
    }
    return i;
  };

  const { bands, radius } = bandPlan(n, maxDistance);
  let shift = 0;
  for (const bits of bands) {
    // Counting sort of the images by this band's value: bucket v is order[start[v]…start[v+1]).
    const size = 2 ** bits;
    const values = new Uint32Array(n);
    const start = new Uint32Array(size + 1);
    const mask = BigInt(size - 1);
    const by = BigInt(shift);
    for (let i = 0; i < n; i++) {
      const v = Number(((hashes[i] as bigint) >> by) & mask);
      values[i] = v;
      start[v + 1] = (start[v + 1] as number) + 1;
    }
    for (let v = 0; v < size; v++) start[v + 1] = (start[v + 1] as number) + (start[v] as number);
    const fill = start.slice(0, size);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      const at = fill[v] as number;
      order[at] = i;
      fill[v] = at + 1;
    }
    const flips = flipMasks(bits, radius);
    // Bucket against bucket rather than image against bucket: one probe serves every image
    // of bucket v, and only w ≥ v is probed, so each pair of buckets is visited once.
    for (let v = 0; v < size; v++) {
      // Seconds of work at large distances: let other requests run in between.
      if ((v & 1023) === 1023) await new Promise((resolve) => setImmediate(resolve));
      const vStart = start[v] as number;
      const vEnd = start[v + 1] as number;
      if (vStart === vEnd) continue;
      for (const flip of flips) {
        const w = v ^ flip;
        if (w < v) continue;
        const wEnd = start[w + 1] as number;
        for (let s = vStart; s < vEnd; s++) {
          const i = order[s] as number;
          const hiI = hi[i] as number;
          const loI = lo[i] as number;
          // Within one bucket, each pair once: only the images after i.
          for (let t = w === v ? s + 1 : (start[w] as number); t < wEnd; t++) {
            const j = order[t] as number;
            const bitsApart =
              popcount32((hiI ^ (hi[j] as number)) >>> 0) +
              popcount32((loI ^ (lo[j] as number)) >>> 0);
            if (bitsApart > maxDistance) continue;
            const a = find(i);
            const b = find(j);
            if (a !== b) parent[a] = b;
          }
        }
      }
    }
    shift += bits;
  }

  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    const list = members.get(root);
    if (list) list.push(i);
    else members.set(root, [i]);
  }
  const groups: NearDuplicateGroup[] = [];
  for (const list of members.values()) {
    if (list.length < 2) continue;
    groups.push({
      ids: list.map((i) => (items[i] as { id: string }).id),
      maxDistance: largestDistance(list, distance),
    });
  }
  return groups;
}

/** Band widths (summing to 64) and the per-band radius with the least expected work. */
export function bandPlan(n: number, d: number): { bands: number[]; radius: number } {
  let best = { bands: [] as number[], radius: 0, cost: Number.POSITIVE_INFINITY };
  // At least 4 bands keeps a band ≤ 16 bits, so its bucket index stays small (2^16 entries).
  for (let m = 4; m <= Math.max(4, d + 1); m++) {
    const radius = Math.floor(d / m);
    const bands = Array.from({ length: m }, (_, k) => Math.floor(64 / m) + (k < 64 % m ? 1 : 0));
    const b = Math.floor(64 / m);
    const cost = m * ballVolume(b, radius) * (1 + n / 2 ** b);
    if (cost < best.cost) best = { bands, radius, cost };
  }
  return { bands: best.bands, radius: best.radius };
}

function ballVolume(bits: number, radius: number): number {
  let total = 0;
  let c = 1; // C(bits, i)
  for (let i = 0; i <= radius; i++) {
    total += c;
    c = (c * (bits - i)) / (i + 1);
  }
  return total;
}

/** Every value of `bits` bits with at most `radius` bits set: the flips to probe. */
function flipMasks(bits: number, radius: number): number[] {
  const out = [0];
  const extend = (from: number, mask: number, left: number) => {
    for (let bit = from; bit < bits; bit++) {
      const next = mask | (1 << bit);
      out.push(next);
      if (left > 1) extend(bit + 1, next, left - 1);
    }
  };
  if (radius > 0) extend(0, 0, radius);
  return out;
}

/**
 * The largest distance within a group, exact up to 1,024 members; for bigger groups (only at
 * large distances) a lower bound from their first 1,024, to keep this O(1024·g).
 */
function largestDistance(list: number[], distance: (i: number, j: number) => number): number {
  let best = 0;
  const head = Math.min(list.length, 1024);
  for (let a = 0; a < head; a++) {
    for (let b = a + 1; b < list.length; b++) {
      best = Math.max(best, distance(list[a] as number, list[b] as number));
      if (best === 64) return best;
    }
  }
  return best;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x5555_5555;
  x = (x & 0x3333_3333) + ((x >>> 2) & 0x3333_3333);
  x = (x + (x >>> 4)) & 0x0f0f_0f0f;
  return Math.imul(x, 0x0101_0101) >>> 24;
}

export interface NearDuplicateDeps {
  images: ImageRepository;
  queries: ImageQueryService;
  blobRemover: ImageBlobRemover;
  onCommitted: () => void;
}

/** Lists near-duplicate groups and resolves them by keeping one image. */
export class NearDuplicateService {
  constructor(private readonly deps: NearDuplicateDeps) {}

  /** Groups, largest first; in each, the biggest image (most pixels, then bytes) comes first. */
  async groups(maxDistance: number): Promise<z.infer<typeof DuplicateGroups>> {
    const found = await nearDuplicateGroups(await this.deps.images.perceptualHashes(), maxDistance);
    const rows = new Map(
      (await this.deps.images.findByIds(found.flatMap((g) => g.ids))).map((r) => [r.id, r]),
    );
    const groups = found
      .map((g) => ({
        rows: g.ids.flatMap((id) => rows.get(id) ?? []).sort(biggestFirst),
        maxDistance: g.maxDistance,
      }))
      // An image deleted between the two reads may leave a group of one.
      .filter((g) => g.rows.length >= 2)
      .sort((a, b) => b.rows.length - a.rows.length || biggestFirst(a.rows[0], b.rows[0]));
    const dtos = await this.deps.queries.dtos(groups.flatMap((g) => g.rows));
    let at = 0;
    return {
      groups: groups.map((g) => {
        const images = dtos.slice(at, at + g.rows.length);
        at += g.rows.length;
        return { images, maxDistance: g.maxDistance };
      }),
    };
  }

  /**
   * Keeps one image and deletes the others as DELETE does; the kept one inherits what the
   * others had (see `mergeDuplicates`), in the same transaction. The ids need not be a group
   * `groups` returned: the user decides what is a duplicate.
   */
  async resolve(request: z.infer<typeof ResolveDuplicates>): Promise<Image> {
    const remove = [...new Set(request.remove)];
    if (remove.includes(request.keep)) {
      throw new AexError('invalid_input', 'The image to keep is also in remove.');
    }
    const result = await this.deps.images.mergeAndDelete(
      request.keep,
      remove,
      mergeDuplicates,
      deletedEvents,
    );
    if (result.status === 'missing') {
      throw new AexError(
        'invalid_input',
        `No image with id ${result.ids.join(', ')}: nothing was changed.`,
      );
    }
    this.deps.onCommitted();
    await this.deps.blobRemover.removeAfterCommit(result.deleted.map((r) => r.sha256));
    return this.deps.queries.dto(result.kept);
  }
}

function biggestFirst(a: ImageRow | undefined, b: ImageRow | undefined): number {
  if (!a || !b) return 0;
  return (
    b.width * b.height - a.width * a.height || b.byteSize - a.byteSize || a.id.localeCompare(b.id)
  );
}
