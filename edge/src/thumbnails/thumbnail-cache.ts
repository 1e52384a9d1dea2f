import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type DerivedVariant, derivedKey } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';

export interface CachedFile {
  path: string;
  size: number;
}

/**
 * Derived images on the edge's local disk, fetched from the blob store on a miss. Derived
 * keys are immutable (content-addressed), so a cached file never goes stale. Concurrent
 * misses for one file share a single origin fetch (single-flight).
 */
export class ThumbnailCache {
  private readonly inflight = new Map<string, Promise<CachedFile | null>>();

  constructor(
    private readonly dir: string,
    private readonly origin: BlobStore,
  ) {}

  /** The cached file, fetched from the origin if needed; null when the origin has none. */
  async get(sha256: string, variant: DerivedVariant): Promise<CachedFile | null> {
    const path = join(this.dir, sha256.slice(0, 2), sha256, `${variant}.webp`);
    const hit = await stat(path).catch(() => null);
    if (hit) return { path, size: hit.size };
    let pending = this.inflight.get(path);
    if (!pending) {
      pending = this.fill(path, derivedKey(sha256, variant)).finally(() =>
        this.inflight.delete(path),
      );
      this.inflight.set(path, pending);
    }
    return pending;
  }

  /** Removes an image's cached files (on delete). */
  async purge(sha256: string): Promise<void> {
    await rm(join(this.dir, sha256.slice(0, 2), sha256), { recursive: true, force: true });
  }

  private async fill(path: string, key: string): Promise<CachedFile | null> {
    const blob = await this.origin.get(key);
    if (!blob) return null;
    await mkdir(join(path, '..'), { recursive: true });
    // Written beside the target and renamed, so a reader never sees a partial file.
    const temp = `${path}.${crypto.randomUUID()}.part`;
    try {
      await pipeline(Readable.fromWeb(blob.body as never), createWriteStream(temp));
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { path, size: (await stat(path)).size };
  }
}
