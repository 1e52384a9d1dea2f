import { Progress } from '@aex/shared/cli/progress';
import { readCpuSeconds, readMachineBusySeconds } from '../lib/proc-stats.ts';
import { round } from '../lib/report.ts';
import type { LoadGenerator, LoadResult } from './load.ts';

/** A server under load: the edge or the baseline. */
export interface Target {
  name: string;
  origin: string;
  /** The server's process, for its CPU seconds. */
  pid: number;
  headers: Record<string, string>;
}

/** A target's figures summed over its segments. */
export interface Totals {
  segments: number;
  seconds: number;
  requests: number;
  bytes: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  resets: number;
  statusCodes: Record<string, number>;
  /** 10 µs bucket → count (see load-driver.ts). */
  latency: Map<number, number>;
  serverCpuSeconds: number | null;
  generatorCpuSeconds: number;
  /** CPU seconds other processes of the machine used while this target was timed. */
  otherBusySeconds: number | null;
}

export interface LoadShape {
  paths: string[];
  connections: number;
  pipelining: number;
}

const emptyTotals = (): Totals => ({
  segments: 0,
  seconds: 0,
  requests: 0,
  bytes: 0,
  non2xx: 0,
  errors: 0,
  timeouts: 0,
  resets: 0,
  statusCodes: {},
  latency: new Map(),
  serverCpuSeconds: 0,
  generatorCpuSeconds: 0,
  otherBusySeconds: 0,
});

function add(totals: Totals, r: LoadResult, serverCpu: number | null, other: number | null) {
  totals.segments++;
  totals.seconds += r.seconds;
  totals.requests += r.requests;
  totals.bytes += r.bytes;
  totals.non2xx += r.non2xx;
  totals.errors += r.errors;
  totals.timeouts += r.timeouts;
  totals.resets += r.resets;
  for (const [code, n] of Object.entries(r.statusCodes)) {
    totals.statusCodes[code] = (totals.statusCodes[code] ?? 0) + n;
  }
  for (const [bucket, n] of r.latency)
    totals.latency.set(bucket, (totals.latency.get(bucket) ?? 0) + n);
  totals.generatorCpuSeconds += r.cpuSeconds;
  totals.serverCpuSeconds =
    totals.serverCpuSeconds === null || serverCpu === null
      ? null
      : totals.serverCpuSeconds + serverCpu;
  totals.otherBusySeconds =
    totals.otherBusySeconds === null || other === null ? null : totals.otherBusySeconds + other;
}

/** The latency (ms) at quantile `q` of a 10 µs histogram. */
export function latencyAt(histogram: Map<number, number>, q: number): number {
  const buckets = [...histogram.entries()].sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [bucket, n] of buckets) {
    seen += n;
    if (seen >= rank) return bucket / 100;
  }
  return (buckets.at(-1)?.[0] ?? 0) / 100;
}

/** What went wrong in a load: failures, timeouts or answers other than 2xx. */
export function failures(r: Pick<LoadResult, 'non2xx' | 'errors' | 'timeouts'>): number {
  return r.non2xx + r.errors + r.timeouts;
}

/**
 * Loads two targets in turn, `rounds` times each for `segmentSeconds`, in ABBA order
 * (A B, B A, A B, …): a background load or a CPU clock change on this shared machine then
 * falls on both alike instead of on whichever ran second, and a steady drift cancels.
 * Every segment must be free of errors and non-2xx answers; the first that is not stops
 * the run.
 */
export async function alternateLoad(options: {
  targets: [Target, Target];
  rounds: number;
  segmentSeconds: number;
  shape: LoadShape;
  load: LoadGenerator;
  onSegment: (target: Target, round: number, r: LoadResult) => void;
}): Promise<Record<string, Totals>> {
  const { targets, rounds, segmentSeconds, shape, load } = options;
  const totals: Record<string, Totals> = Object.fromEntries(
    targets.map((t) => [t.name, emptyTotals()]),
  );
  const progress = new Progress(
    `measuring ${targets.map((t) => t.name).join(' vs ')}`,
    2 * rounds * Math.floor(segmentSeconds),
    { unit: 's' },
  );
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targets : ([targets[1], targets[0]] as const);
    for (const target of order) {
      const cpu = () => targets.map((t) => readCpuSeconds(t.pid));
      const self = () => (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
      const [cpu0, busy0, self0] = [cpu(), readMachineBusySeconds(), self()];
      // Progress in seconds of load, whatever the generator's ticks: it ticks each second
      // and once more when it stops, a little after the requested time.
      const started = performance.now();
      let shown = 0;
      const show = (seconds: number) => {
        const whole = Math.floor(Math.min(seconds, segmentSeconds));
        if (whole > shown) progress.tick(whole - shown);
        shown = Math.max(shown, whole);
      };
      const r = await load.run(
        { origin: target.origin, headers: target.headers, seconds: segmentSeconds, ...shape },
        () => show((performance.now() - started) / 1000),
      );
      show(segmentSeconds);
      const [cpu1, busy1, self1] = [cpu(), readMachineBusySeconds(), self()];
      const index = targets.indexOf(target);
      const before = cpu0[index];
      const after = cpu1[index];
      const serverCpu = before == null || after == null ? null : after - before;
      // Everything the machine did besides our servers, the generator and this process.
      let other: number | null = null;
      if (busy0 !== null && busy1 !== null) {
        const ours = cpu1.reduce<number>((sum, c, i) => sum + (c ?? 0) - (cpu0[i] ?? 0), 0);
        other = Math.max(0, busy1 - busy0 - ours - r.cpuSeconds - (self1 - self0));
      }
      add(totals[target.name] as Totals, r, serverCpu, other);
      options.onSegment(target, round, r);
      if (failures(r) > 0) {
        throw new Error(
          `${target.name} failed ${failures(r)} of ${r.requests} requests in round ${round + 1} ` +
            `(non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}; ` +
            `status codes ${JSON.stringify(r.statusCodes)}): a benchmark of failing answers has no figure`,
        );
      }
    }
  }
  progress.done();
  return totals;
}

/** The JSON shape of a target's totals. */
export function figures(t: Totals) {
  const perSecond = (n: number) => (t.seconds > 0 ? n / t.seconds : 0);
  return {
    segments: t.segments,
    seconds: round(t.seconds, 2),
    requests: t.requests,
    requestsPerSecond: round(perSecond(t.requests), 1),
    latencyMs: {
      p50: round(latencyAt(t.latency, 0.5), 2),
      p90: round(latencyAt(t.latency, 0.9), 2),
      p99: round(latencyAt(t.latency, 0.99), 2),
      max: round(latencyAt(t.latency, 1), 2),
    },
    bytesPerSecond: Math.round(perSecond(t.bytes)),
    mbPerSecond: round(perSecond(t.bytes) / 1e6, 2),
    non2xx: t.non2xx,
    errors: t.errors,
    timeouts: t.timeouts,
    resets: t.resets,
    statusCodes: t.statusCodes,
    // Server CPU per request tells "more work per request" apart from "fewer cores left
    // over by the load generator", and hardly moves when another load shares the machine.
    serverCpuMicrosPerRequest:
      t.serverCpuSeconds === null || t.requests === 0
        ? null
        : round((t.serverCpuSeconds * 1e6) / t.requests, 1),
    serverCores: t.serverCpuSeconds === null ? null : round(t.serverCpuSeconds / t.seconds, 2),
    generatorCores: round(t.generatorCpuSeconds / t.seconds, 2),
    otherLoadCores: t.otherBusySeconds === null ? null : round(t.otherBusySeconds / t.seconds, 2),
  };
}
