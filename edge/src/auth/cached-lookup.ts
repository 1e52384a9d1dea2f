import { LruMap } from './lru-map.ts';

/**
 * Answers from core kept for a short while, so a burst of requests for one image or one API
 * key costs core one request: concurrent misses share one lookup (single-flight), answers
 * (positive and negative) are kept `ttlMs`, and a failed lookup is not kept at all, so the
 * next request asks again.
 */
export class CachedLookup<V> {
  private readonly answers: LruMap<string, V>;
  private readonly inflight = new Map<string, Promise<V>>();

  constructor(options: { maxEntries: number; ttlMs: number; now?: () => number }) {
    this.answers = new LruMap(options);
  }

  /** The kept answer for `key`, without asking; undefined when none is kept. */
  peek(key: string): V | undefined {
    return this.answers.get(key);
  }

  /** The kept answer for `key`, or `load()`'s (kept when it resolves). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const kept = this.answers.get(key);
    if (kept !== undefined) return Promise.resolve(kept);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = load()
        .then((value) => {
          // A forget() while the lookup ran wins: its answer may already be stale.
          if (this.inflight.get(key) === pending) this.answers.set(key, value);
          return value;
        })
        .finally(() => {
          if (this.inflight.get(key) === pending) this.inflight.delete(key);
        });
      this.inflight.set(key, pending);
    }
    return pending;
  }

  forget(key: string): void {
    this.answers.delete(key);
    this.inflight.delete(key);
  }

  clear(): void {
    this.answers.clear();
    this.inflight.clear();
  }
}
