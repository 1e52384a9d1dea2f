import { Progress } from '@aex/shared/cli/progress';
import { forEachPooled } from './pool.ts';
import { readMachineBusySeconds } from './proc-stats.ts';

/** One side of a comparison: AEX or its baseline. */
export interface Subject<T> {
  name: string;
  /** Processes one item; throws if the answer is wrong. */
  task(item: T): Promise<void>;
  /**
   * Processes a whole segment at once (one command over a folder), instead of `task` per
   * item: then no per-item latency is known.
   */
  runSegment?(items: readonly T[], concurrency: number): Promise<void>;
  /** Cumulative CPU seconds of whatever does this subject's work, or null if unknown. */
  cpuSeconds(): number | null;
  /** Untimed, after each of its segments: let deferred work finish before the other runs. */
  settle?(): Promise<void>;
}

/** A subject's figures summed over its segments. */
export interface Measured {
  count: number;
  seconds: number;
  perSecond: number;
  bytes: number;
  mbPerSecond: number;
  latencyMs: { p50: number; p95: number; max: number };
  cpuSeconds: number | null;
  /** Mean cores used by other processes on the machine while this subject was timed. */
  otherLoadCores: number | null;
}

/**
 * Times two subjects on the same items with the same concurrency, alternating in segments
 * (A B, B A, A B, …). On a shared or throttling machine a background load or a clock change
 * then falls on both sides alike instead of on whichever ran second; the ABBA order also
 * cancels a steady drift. Each subject's rate is its items over the sum of its segments'
 * wall time (first start to last finish, what a user uploading a folder waits for).
 */
export async function alternate<T>(options: {
  subjects: [Subject<T>, Subject<T>];
  items: readonly T[];
  concurrency: number;
  segmentSize: number;
  bytesOf: (item: T) => number;
  /** CPU seconds of all our own processes (to tell other loads apart). */
  ownCpuSeconds: () => number;
}): Promise<Record<string, Measured>> {
  const { subjects, items, concurrency } = options;
  const acc = new Map(
    subjects.map((s) => [
      s.name,
      { seconds: 0, cpu: 0 as number | null, other: 0, latencies: [] as number[] },
    ]),
  );
  const progress = new Progress(
    `measuring ${subjects.map((s) => s.name).join(' vs ')}`,
    items.length * 2,
    { unit: 'items' },
  );
  const size = Math.max(1, options.segmentSize);
  for (let start = 0, round = 0; start < items.length; start += size, round++) {
    const segment = items.slice(start, start + size);
    const order = round % 2 === 0 ? subjects : [subjects[1], subjects[0]];
    for (const subject of order) {
      const a = acc.get(subject.name);
      if (!a) continue;
      const cpu0 = subject.cpuSeconds();
      const own0 = options.ownCpuSeconds();
      const busy0 = readMachineBusySeconds();
      const t0 = performance.now();
      if (subject.runSegment) {
        await subject.runSegment(segment, concurrency);
        progress.tick(segment.length);
      } else {
        await forEachPooled(segment, concurrency, async (item) => {
          const started = performance.now();
          await subject.task(item);
          a.latencies.push(performance.now() - started);
          progress.tick();
        });
      }
      a.seconds += (performance.now() - t0) / 1000;
      const busy1 = readMachineBusySeconds();
      if (busy0 !== null && busy1 !== null) {
        a.other += Math.max(0, busy1 - busy0 - (options.ownCpuSeconds() - own0));
      }
      await subject.settle?.();
      // Read after settling, so work deferred past the answers still counts as this
      // subject's CPU even though it is not on its clock.
      const cpu1 = subject.cpuSeconds();
      a.cpu = a.cpu === null || cpu0 === null || cpu1 === null ? null : a.cpu + cpu1 - cpu0;
    }
  }
  progress.done();
  const bytes = items.reduce((sum, item) => sum + options.bytesOf(item), 0);
  const out: Record<string, Measured> = {};
  for (const [name, a] of acc) {
    const sorted = a.latencies.sort((x, y) => x - y);
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    out[name] = {
      count: items.length,
      seconds: a.seconds,
      perSecond: items.length / a.seconds,
      bytes,
      mbPerSecond: bytes / 1e6 / a.seconds,
      latencyMs: { p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 },
      cpuSeconds: a.cpu,
      otherLoadCores: readMachineBusySeconds() === null ? null : a.other / a.seconds,
    };
  }
  return out;
}
