/**
 * What the edge holds per image and must forget when the image is deleted: the files of its
 * disk cache, and whatever a route remembers about it (whether it is public, say). Each holder
 * registers a hook; `purge` runs them all. One registry, so the event listener does not need
 * to know who caches what.
 */
export type PurgeHook = (sha256: string) => void | Promise<void>;

export class ImagePurges {
  private readonly hooks = new Map<string, PurgeHook>();
  private readonly resets = new Map<string, () => void | Promise<void>>();

  /** Registers `hook` under `name` (for errors); a second call with the same name replaces it. */
  add(name: string, hook: PurgeHook): void {
    this.hooks.set(name, hook);
  }

  /**
   * Registers what to do when deletes may have been missed (the event connection was down):
   * forget in-memory answers, or check cached files against the origin again.
   */
  addReset(name: string, reset: () => void | Promise<void>): void {
    this.resets.set(name, reset);
  }

  /** Runs every hook for the image; throws an AggregateError naming the hooks that failed. */
  async purge(sha256: string): Promise<void> {
    await settleAll(this.hooks, (hook) => hook(sha256), `purge of ${sha256}`);
  }

  /** Runs every reset; throws an AggregateError naming those that failed. */
  async resetAll(): Promise<void> {
    await settleAll(this.resets, (reset) => reset(), 'reset');
  }
}

/** Runs `call` on every entry, all of them even when some fail. */
async function settleAll<T>(
  entries: Map<string, T>,
  call: (entry: T) => void | Promise<void>,
  what: string,
): Promise<void> {
  const list = [...entries];
  const results = await Promise.allSettled(list.map(async ([, entry]) => call(entry)));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ name: list[i]?.[0], reason: r.reason as Error }] : [],
  );
  if (failed.length === 0) return;
  throw new AggregateError(
    failed.map((f) => f.reason),
    `${what} failed in ${failed.map((f) => `${f.name}: ${f.reason?.message}`).join('; ')}`,
  );
}
