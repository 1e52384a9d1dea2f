/**
 * A map of at most `maxEntries` entries that drops the least recently used one past that, and
 * optionally forgets an entry `ttlMs` after it was set. The edge keeps per-client and
 * per-image answers in memory (rate-limit buckets, verified tokens, "is this image public");
 * anyone can make up new clients and image addresses, so each such map must be bounded.
 * Written here rather than taken from a package: it is 50 lines on a JavaScript Map (which
 * keeps insertion order, so the first key is the least recently used one).
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly options: {
      maxEntries: number;
      /** Default: entries never expire (only eviction removes them). */
      ttlMs?: number;
      /** Milliseconds clock; default `Date.now`. */
      now?: () => number;
    },
  ) {
    if (!(options.maxEntries >= 1)) throw new RangeError('LruMap: maxEntries must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marking it most recently used; undefined when absent or expired. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.until <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Sets `key`; `ttlMs` overrides the map's lifetime for this entry. */
  set(key: K, value: V, ttlMs = this.options.ttlMs): void {
    this.entries.delete(key);
    const until = ttlMs === undefined ? Number.POSITIVE_INFINITY : this.now() + ttlMs;
    this.entries.set(key, { value, until });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
