import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { ThumbnailCache } from './thumbnail-cache.ts';

const sha = (n: number) => n.toString(16).padStart(64, '0');

describe('ThumbnailCache size cap', () => {
  let dir: string;
  let origin: BlobStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aex-cache-'));
    origin = createDiskBlobStore({ root: join(dir, 'blobs') });
    for (let i = 1; i <= 6; i++)
      await origin.put(`derived/${sha(i)}/thumb.webp`, new Uint8Array(1000).fill(i));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('least recently used files go once the cache passes its cap', async () => {
    const cache = new ThumbnailCache({ dir: join(dir, 'c1'), origin, maxBytes: 3000 });
    const paths: string[] = [];
    for (const i of [1, 2, 3]) paths.push((await cache.get(sha(i), 'thumb'))?.path ?? '');
    expect(await cache.size()).toBe(3000);
    await cache.get(sha(1), 'thumb'); // 1 is now the most recently used
    await cache.get(sha(4), 'thumb'); // evicts 2, the least recently used
    expect(await cache.size()).toBe(3000);
    expect(await stat(paths[1] ?? '').catch(() => null)).toBeNull();
    expect(await stat(paths[0] ?? '')).toBeTruthy();
    expect(await stat(paths[2] ?? '')).toBeTruthy();
  });

  test('a restarted cache indexes what is on disk and keeps to its cap', async () => {
    const first = new ThumbnailCache({ dir: join(dir, 'c2'), origin, maxBytes: 10_000 });
    for (const i of [1, 2, 3, 4, 5]) await first.get(sha(i), 'thumb');
    const again = new ThumbnailCache({ dir: join(dir, 'c2'), origin, maxBytes: 2000 });
    expect(await again.size()).toBe(2000);
  });

  test('purge removes an image and its bytes from the count', async () => {
    const cache = new ThumbnailCache({ dir: join(dir, 'c3'), origin, maxBytes: 10_000 });
    const file = await cache.get(sha(6), 'thumb');
    await cache.purge(sha(6));
    expect(await cache.size()).toBe(0);
    expect(await stat(file?.path ?? '').catch(() => null)).toBeNull();
  });
});
