import { statSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type DerivedVariant, derivedKey } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { writeAll } from '@aex/shared/ports/blob-store/disk-stream';

export interface CachedFile {
  path: string;
  size: number;
}

export interface ThumbnailCacheOptions {
  dir: string;
  origin: BlobStore;
  /** Size cap: least recently used files are deleted past it. */
  maxBytes: number;
  /**
   * How long a purged image stays refused, so a request racing the origin's own delete
   * cannot put it back. Default 60 s; an `aex.image.ingested` of the same bytes lifts it.
   */
  tombstoneMs?: number;
}

/**
 * Derived images on the edge's local disk, fetched from the blob store on a miss. Derived
 * keys are immutable (content-addressed), so a cached file never goes stale. Concurrent
 * misses for one file share a single origin fetch (single-flight), and the least recently
 * used files go when the cache passes its size cap.
 *
 * Deletes are the one way a file goes stale: `purge` removes an image on `aex.image.deleted`.
 * Files this process has not checked against the origin since it may have missed a delete
 * (found on disk at start, or cached before `revalidateAll`) are checked once, on their next
 * hit, with a HEAD to the origin.
 */
export class ThumbnailCache {
  private readonly inflight = new Map<string, Promise<CachedFile | null>>();
  /** Cached files by path, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, number>();
  /** Cached files known to still exist at the origin (see `revalidateAll`). */
  private readonly verified = new Set<string>();
  /** Purged sha256 → until when it is refused. */
  private readonly tombstones = new Map<string, number>();
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
    if (this.tombstoned(sha256)) return null;
    const path = this.pathOf(sha256, variant);
    const known = this.entries.get(path);
    if (known !== undefined) {
      // statSync: a cached file's metadata is in the page cache, and the async stat's round
      // trip through the thread pool cost more than the rest of a cache hit together.
      const hit = statOrNull(path);
      if (hit && (await this.stillAtOrigin(path, derivedKey(sha256, variant)))) {
        this.touch(path, known);
        return { path, size: hit.size };
      }
      this.forget(path);
      if (hit) {
        await rm(path, { force: true });
        return null;
      }
    }
    let pending = this.inflight.get(path);
    if (!pending) {
      pending = this.fill(sha256, path, derivedKey(sha256, variant)).finally(() =>
        this.inflight.delete(path),
      );
      this.inflight.set(path, pending);
    }
    return pending;
  }

  /**
   * Removes an image's cached files (on delete) and refuses it for `tombstoneMs`, so a miss
   * that reaches the origin before the origin's own delete does not cache it again.
   */
  async purge(sha256: string): Promise<void> {
    await this.load();
    this.tombstones.set(sha256, Date.now() + (this.options.tombstoneMs ?? 60_000));
    const dir = join(this.options.dir, sha256.slice(0, 2), sha256);
    for (const path of [...this.entries.keys()]) if (path.startsWith(`${dir}/`)) this.forget(path);
    await rm(dir, { recursive: true, force: true });
  }

  /** Lifts a purge's refusal: the same bytes were uploaded again (`aex.image.ingested`). */
  revive(sha256: string): void {
    this.tombstones.delete(sha256);
  }

  /**
   * Deletes may have been missed (the event connection was down): every cached file is
   * checked against the origin again on its next hit.
   */
  revalidateAll(): void {
    this.verified.clear();
  }

  private pathOf(sha256: string, variant: DerivedVariant): string {
    return join(this.options.dir, sha256.slice(0, 2), sha256, `${variant}.webp`);
  }

  private tombstoned(sha256: string): boolean {
    const until = this.tombstones.get(sha256);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.tombstones.delete(sha256);
    return false;
  }

  /**
   * Whether a cached file's blob still exists, asked of the origin once per file until the
   * next `revalidateAll`. An origin that cannot answer leaves the file served (and unchecked).
   */
  private async stillAtOrigin(path: string, key: string): Promise<boolean> {
    if (this.verified.has(path)) return true;
    const info = await this.options.origin.head(key).catch(() => undefined);
    if (info === null) return false;
    if (info) this.verified.add(path);
    return true;
  }

  private async fill(sha256: string, path: string, key: string): Promise<CachedFile | null> {
    const blob = await this.options.origin.get(key);
    if (!blob) return null;
    await mkdir(join(path, '..'), { recursive: true });
    // Written beside the target and renamed, so a reader never sees a partial file.
    const temp = `${path}.${crypto.randomUUID()}.part`;
    try {
      await writeFileFrom(temp, blob.body);
      if (this.tombstoned(sha256)) {
        // Purged while this fill was under way: the bytes are of a deleted image.
        await rm(temp, { force: true });
        return null;
      }
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    const size = (await stat(path)).size;
    this.touch(path, size);
    this.verified.add(path);
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
    this.verified.delete(path);
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

/** Writes a web stream to a new file with node:fs only, so it runs on Bun, Deno and Node. */
async function writeFileFrom(path: string, body: ReadableStream<Uint8Array>): Promise<void> {
  const file = await open(path, 'wx');
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      await writeAll(file, chunk);
    }
  } finally {
    await file.close();
  }
}

function statOrNull(path: string): { size: number } | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
