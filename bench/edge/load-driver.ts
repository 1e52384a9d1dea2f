import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The load generator of `npm run bench -- edge`, run by Node in its own process (see
// load.ts): never in the process of a server under test, so the two do not share an event
// loop. Self-contained on purpose (node builtins and autocannon only): load.ts strips its
// types and Node runs it as plain JavaScript.
//
// argv[2]: a JSON file holding a LoadJob. stdout: one JSON line, a LoadResult.
// stderr: `{"tick":<requests in the last second>}` lines, for the caller's progress.

export interface LoadJob {
  /** Absolute path of autocannon's entry module (resolved by the caller). */
  autocannon: string;
  origin: string;
  /** Request paths, rotated over by every connection. */
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  pipelining: number;
  seconds: number;
}

export interface LoadResult {
  seconds: number;
  requests: number;
  /** Response bytes as autocannon counts them: status line, headers and body. */
  bytes: number;
  status2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  resets: number;
  statusCodes: Record<string, number>;
  /** Latency histogram: [bucket, count] pairs, bucket = round(ms × 100), so 10 µs wide. */
  latency: Array<[number, number]>;
  /** CPU seconds the load generator used. */
  cpuSeconds: number;
}

interface AutocannonResult {
  duration: number;
  requests: { total: number };
  throughput: { total: number };
  errors: number;
  timeouts: number;
  resets: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}

interface AutocannonInstance {
  on(event: 'tick', listener: (tick: { counter: number }) => void): void;
  on(
    event: 'response',
    listener: (client: unknown, status: number, bytes: number, ms: number) => void,
  ): void;
}

type Autocannon = (
  options: Record<string, unknown>,
  done: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

// 10 µs buckets up to 10 s, autocannon's default request timeout: a slower answer is a
// timeout, never a latency.
const BUCKETS_PER_MS = 100;
const MAX_BUCKET = 10_000 * BUCKETS_PER_MS;

function runJob(job: LoadJob): Promise<LoadResult> {
  const autocannon = createRequire(import.meta.url)(job.autocannon) as Autocannon;
  const counts = new Uint32Array(MAX_BUCKET + 1);
  const cpu0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.origin,
        connections: job.connections,
        pipelining: job.pipelining,
        duration: job.seconds,
        headers: job.headers,
        requests: job.paths.map((path) => ({ method: 'GET', path })),
      },
      (err, r) => {
        if (err) return reject(err);
        const cpu = process.cpuUsage(cpu0);
        const latency: Array<[number, number]> = [];
        for (let bucket = 0; bucket <= MAX_BUCKET; bucket++) {
          const n = counts[bucket] ?? 0;
          if (n > 0) latency.push([bucket, n]);
        }
        const statusCodes: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(r.statusCodeStats)) {
          statusCodes[code] = count;
        }
        resolve({
          seconds: r.duration,
          requests: r.requests.total,
          bytes: r.throughput.total,
          status2xx: r['2xx'],
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          resets: r.resets,
          statusCodes,
          latency,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      const bucket = Math.min(MAX_BUCKET, Math.round(ms * BUCKETS_PER_MS));
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    });
    instance.on('tick', ({ counter }) => {
      process.stderr.write(`${JSON.stringify({ tick: counter })}\n`);
    });
  });
}

const jobFile = process.argv[2];
if (!jobFile) {
  process.stderr.write('usage: node load-driver.mjs <job.json>\n');
  process.exit(2);
}
try {
  const result = await runJob(JSON.parse(readFileSync(jobFile, 'utf8')) as LoadJob);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  process.stderr.write(`load driver failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
}
