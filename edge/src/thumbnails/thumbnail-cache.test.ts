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

describe('ThumbnailCache and deletes', () => {
  let dir: string;
  let origin: BlobStore;
  const put = (n: number) => origin.put(`derived/${sha(n)}/thumb.webp`, new Uint8Array(10).fill(n));
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aex-cache-del-'));
    origin = createDiskBlobStore({ root: join(dir, 'blobs') });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('a purged image is refused while the origin may still have it; revive lifts that', async () => {
    const cache = new ThumbnailCache({ dir: join(dir, 'c1'), origin, maxBytes: 10_000 });
    await put(1);
    expect(await cache.get(sha(1), 'thumb')).not.toBeNull();
    // The edge heard of the delete before core removed the blob: no refill from the origin.
    await cache.purge(sha(1));
    expect(await cache.get(sha(1), 'thumb')).toBeNull();
    // The same bytes uploaded again (aex.image.ingested).
    cache.revive(sha(1));
    expect(await cache.get(sha(1), 'thumb')).not.toBeNull();
  });

  test('the refusal ends after tombstoneMs', async () => {
    const cache = new ThumbnailCache({
      dir: join(dir, 'c2'),
      origin,
      maxBytes: 10_000,
      tombstoneMs: 50,
    });
    await put(2);
    await cache.purge(sha(2));
    expect(await cache.get(sha(2), 'thumb')).toBeNull();
    await Bun.sleep(80);
    expect(await cache.get(sha(2), 'thumb')).not.toBeNull();
  });

  test('a purge during a miss does not let the fetched bytes into the cache', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((done) => {
      release = done;
    });
    const slow: BlobStore = {
      ...origin,
      kind: origin.kind,
      get: async (key, options) => {
        await gate;
        return origin.get(key, options);
      },
    };
    const cache = new ThumbnailCache({ dir: join(dir, 'c3'), origin: slow, maxBytes: 10_000 });
    await put(3);
    const pending = cache.get(sha(3), 'thumb');
    await Bun.sleep(10);
    await cache.purge(sha(3));
    release();
    expect(await pending).toBeNull();
    expect(await cache.size()).toBe(0);
  });

  test('after revalidateAll a file whose blob is gone is dropped on its next hit', async () => {
    const cache = new ThumbnailCache({ dir: join(dir, 'c4'), origin, maxBytes: 10_000 });
    await put(4);
    await put(5);
    const file = await cache.get(sha(4), 'thumb');
    await cache.get(sha(5), 'thumb');
    // Deleted while the edge heard nothing: still served, it has been checked already.
    await origin.delete(`derived/${sha(4)}/thumb.webp`);
    expect(await cache.get(sha(4), 'thumb')).not.toBeNull();
    cache.revalidateAll();
    expect(await cache.get(sha(4), 'thumb')).toBeNull();
    expect(await stat(file?.path ?? '').catch(() => null)).toBeNull();
    // A file still at the origin stays.
    expect(await cache.get(sha(5), 'thumb')).not.toBeNull();
    expect(await cache.size()).toBe(10);
  });

  test('files found on disk at start are checked against the origin once', async () => {
    const first = new ThumbnailCache({ dir: join(dir, 'c5'), origin, maxBytes: 10_000 });
    await put(6);
    await first.get(sha(6), 'thumb');
    await origin.delete(`derived/${sha(6)}/thumb.webp`);
    const restarted = new ThumbnailCache({ dir: join(dir, 'c5'), origin, maxBytes: 10_000 });
    expect(await restarted.get(sha(6), 'thumb')).toBeNull();
  });
});
