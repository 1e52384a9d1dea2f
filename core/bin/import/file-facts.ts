import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileTypeFromFile } from 'file-type';

/** What the importer learns about a file before uploading it. */
export interface FileFacts {
  sha256: string;
  /** Detected from the bytes; null when unknown. */
  mime: string | null;
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher('sha256');
  const reader = Bun.file(path).stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  return hasher.digest('hex');
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
  mime: string | null;
}

/**
 * Facts about files, remembered by path, size and modification time in the user's cache
 * folder, so a rerun over 100,000 unchanged photos does not read them all again.
 */
export class FileFactsCache {
  private entries: Record<string, CacheEntry> = {};
  private dirty = false;

  private constructor(private readonly path: string | null) {}

  /** The cache of `$XDG_CACHE_HOME/aex` (or `~/.cache/aex`); `null` keeps it in memory. */
  static async open(path: string | null = defaultCachePath()): Promise<FileFactsCache> {
    const cache = new FileFactsCache(path);
    if (path) {
      try {
        cache.entries = JSON.parse(await readFile(path, 'utf8')) as Record<string, CacheEntry>;
      } catch {
        // Missing or unreadable: start afresh; it is only a cache.
      }
    }
    return cache;
  }

  async facts(file: { path: string; size: number; mtime: Date }): Promise<FileFacts> {
    const hit = this.entries[file.path];
    if (hit && hit.size === file.size && hit.mtimeMs === file.mtime.getTime()) return hit;
    const [sha256, type] = await Promise.all([sha256File(file.path), fileTypeFromFile(file.path)]);
    const entry = {
      size: file.size,
      mtimeMs: file.mtime.getTime(),
      sha256,
      mime: type?.mime ?? null,
    };
    this.entries[file.path] = entry;
    this.dirty = true;
    return entry;
  }

  async save(): Promise<void> {
    if (!this.path || !this.dirty) return;
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(this.entries));
    await rename(temp, this.path);
    this.dirty = false;
  }
}

function defaultCachePath(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'aex', 'import-facts.json');
}
