import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type DerivedVariant, derivedKey } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';

export interface CachedFile {
  path: string;
  size: number;
}

export interface ThumbnailCacheOptions {
  dir: string;
  origin: BlobStore;
  /** Size cap: least recently used files are deleted past it. */
  maxBytes: number;
}

/**
 * Derived images on the edge's local disk, fetched from the blob store on a miss. Derived
 * keys are immutable (content-addressed), so a cached file never goes stale. Concurrent
 * misses for one file share a single origin fetch (single-flight), and the least recently
 * used files go when the cache passes its size cap.
 */
export class ThumbnailCache {
  private readonly inflight = new Map<string, Promise<CachedFile | null>>();
  /** Cached files by path, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, number>();
  private totalBytes = 0;
  private loaded: Promise<void> | undefined;

  constructor(private readonly options: ThumbnailCacheOptions) {}

  /** Bytes the cache holds now. */
  async size(): Promise<number> {
    await this.load();
    return this.totalBytes;
  }

  /** The cached file, fetched from the origin if needed; null when the origin has none. */
  async get(sha256: string, variant: DerivedVariant): Promise<CachedFile | null> {
    await this.load();
    const path = join(this.options.dir, sha256.slice(0, 2), sha256, `${variant}.webp`);
    const known = this.entries.get(path);
    if (known !== undefined) {
      const hit = await stat(path).catch(() => null);
      if (hit) {
        this.touch(path, known);
        return { path, size: hit.size };
      }
      this.forget(path);
    }
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
    await this.load();
    const dir = join(this.options.dir, sha256.slice(0, 2), sha256);
    for (const path of [...this.entries.keys()]) if (path.startsWith(`${dir}/`)) this.forget(path);
    await rm(dir, { recursive: true, force: true });
  }

  private async fill(path: string, key: string): Promise<CachedFile | null> {
    const blob = await this.options.origin.get(key);
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
    const size = (await stat(path)).size;
    this.touch(path, size);
    await this.evict(path);
    return { path, size };
  }

  private touch(path: string, size: number): void {
    const previous = this.entries.get(path);
    if (previous !== undefined) this.entries.delete(path);
    this.entries.set(path, size);
    this.totalBytes += size - (previous ?? 0);
  }

  private forget(path: string): void {
    const size = this.entries.get(path);
    if (size === undefined) return;
    this.entries.delete(path);
    this.totalBytes -= size;
  }

  /** Deletes least recently used files until the cache fits; never the one just added. */
  private async evict(keep: string): Promise<void> {
    for (const [path] of this.entries) {
      if (this.totalBytes <= this.options.maxBytes) return;
      if (path === keep) continue;
      this.forget(path);
      await rm(path, { force: true });
    }
  }

  /** Indexes files left by an earlier run, oldest first, so the cap holds across restarts. */
  private load(): Promise<void> {
    this.loaded ??= (async () => {
      const found: Array<{ path: string; size: number; mtime: number }> = [];
      const names = await readdir(this.options.dir, { recursive: true }).catch(
        () => [] as string[],
      );
      for (const name of names) {
        if (!name.endsWith('.webp')) continue;
        const path = join(this.options.dir, name);
        const info = await stat(path).catch(() => null);
        if (info?.isFile()) found.push({ path, size: info.size, mtime: info.mtimeMs });
      }
      for (const f of found.sort((a, b) => a.mtime - b.mtime)) this.touch(f.path, f.size);
      await this.evict('');
    })();
    return this.loaded;
  }
}
