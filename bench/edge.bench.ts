import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { alternateLoad, failures, figures, type Target } from './edge/alternate-load.ts';
import { prepareLoadGenerator } from './edge/load.ts';
import { startServers } from './edge/servers.ts';
import type { Visibility } from './edge/stand-in-core.ts';
import { makeThumbnails } from './edge/thumbnails.ts';
import type { BenchContext, Benchmark, Summary } from './lib/benchmark.ts';
import { round } from './lib/report.ts';

// `npm run bench -- edge`: cached thumbnail GETs against the edge alone (`aex serve edge`
// on Bun, every request carrying a bearer token it must verify) and against Caddy's
// file_server over the same files at the same URLs, alternating in the same run.
// Goal (issue 5): the edge answers at least as many requests/s as Caddy.
const GOAL = 1.0;

/**
 * The edge's rate limiter stays on (its bookkeeping is part of what every request costs)
 * but with a budget no benchmark client can exhaust, so it never answers 429 here.
 */
const PERMISSIVE_RATE_LIMIT = '1000000/s';

const usage = `Options:
  --duration S      seconds of load per server, split over the rounds (default 20)
  --connections C   concurrent connections (default 64)
  --pipelining P    requests in flight per connection (default 1)
  --files N         distinct thumbnails; every connection rotates over all (default 200)
  --warmup S        seconds of untimed load per server before measuring (default 3)
  --rounds R        turns per server, in A B, B A order (default 4: edge caddy, caddy edge,
                    edge caddy, caddy edge; short turns share out bursts of other load)
  --images public|internal
                    what the stand-in core says about the images (default public): with
                    internal, the token is what grants access
  --rate-limit V    AEX_RATE_LIMIT for the edge (default ${PERMISSIVE_RATE_LIMIT}: on, never reached)
  --log-level L     the edge's LOG_LEVEL (default warn: no line per request, like Caddy,
                    which keeps no access log unless asked)
  --seed N          seed of the generated thumbnails (default 1)
  --caddy PATH      the caddy binary (default /usr/bin/caddy)
  --node PATH       Node.js that runs the load generator (default node)`;

function options(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '20' },
      connections: { type: 'string', default: '64' },
      pipelining: { type: 'string', default: '1' },
      files: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '4' },
      images: { type: 'string', default: 'public' },
      'rate-limit': { type: 'string', default: PERMISSIVE_RATE_LIMIT },
      'log-level': { type: 'string', default: 'warn' },
      seed: { type: 'string', default: '1' },
      caddy: { type: 'string', default: '/usr/bin/caddy' },
      node: { type: 'string', default: 'node' },
    },
  });
  const num = (name: string, value: string, min: number, integer = true) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
    }
    return n;
  };
  if (values.images !== 'public' && values.images !== 'internal') {
    throw new Error('--images must be public or internal');
  }
  return {
    duration: num('duration', values.duration, 1, false),
    connections: num('connections', values.connections, 1),
    pipelining: num('pipelining', values.pipelining, 1),
    files: num('files', values.files, 1),
    warmup: num('warmup', values.warmup, 0, false),
    rounds: num('rounds', values.rounds, 1),
    images: values.images as Visibility,
    rateLimit: values['rate-limit'],
    logLevel: values['log-level'],
    seed: num('seed', values.seed, 0),
    caddy: values.caddy,
    node: values.node,
  };
}

async function run(ctx: BenchContext): Promise<Summary> {
  const opts = options(ctx.args);
  const note = ctx.report.note;
  const dir = await mkdtemp(join(tmpdir(), 'aex-bench-edge-'));
  ctx.cleanup.add('temporary folder', () => rm(dir, { recursive: true, force: true }));
  const [dataDir, siteDir] = [join(dir, 'data'), join(dir, 'site')];
  await mkdir(siteDir, { recursive: true });
  const load = await prepareLoadGenerator({ node: opts.node, dir });
  ctx.cleanup.add('load generator', () => load.stop());
  ctx.report.line('config', {
    benchmark: 'edge',
    durationSeconds: opts.duration,
    connections: opts.connections,
    pipelining: opts.pipelining,
    files: opts.files,
    warmupSeconds: opts.warmup,
    rounds: opts.rounds,
    order: 'ABBA: edge caddy, caddy edge, …',
    images: opts.images,
    loadGenerator: `${load.describe}, in its own process`,
    // Nothing is pinned: the generator, the server under test and this process share them.
    sharedCores: `the load generator and the server under test share this machine's ${availableParallelism()} cores`,
  });

  // One more than measured: the first is the internal image that probes the token checks.
  const [probe, ...thumbnails] = await makeThumbnails({
    blobRoot: join(dataDir, 'blobs'),
    siteDir,
    count: opts.files + 1,
    seed: opts.seed,
    concurrency: availableParallelism(),
  });
  if (!probe) throw new Error('no thumbnails were made');
  const sizes = thumbnails.map((t) => t.bytes).sort((a, b) => a - b);
  ctx.report.line('fixtures', {
    thumbnails: thumbnails.length,
    meanKB: round(sizes.reduce((s, b) => s + b, 0) / sizes.length / 1024, 1),
    minKB: round((sizes[0] ?? 0) / 1024, 1),
    maxKB: round((sizes.at(-1) ?? 0) / 1024, 1),
  });

  const servers = await startServers({
    cleanup: ctx.cleanup,
    note,
    dir,
    dataDir,
    siteDir,
    thumbnails,
    probe,
    images: opts.images,
    rateLimit: opts.rateLimit,
    logLevel: opts.logLevel,
    caddyBin: opts.caddy,
  });
  const { edge, caddy, standIn, authorization, tokenChecks, rateLimit } = servers;
  ctx.report.line('servers', {
    edge: {
      command: 'bun core/bin/aex.ts serve edge',
      pid: edge.pid,
      tokenChecks: tokenChecks.on,
      tokenProbe: tokenChecks,
      rateLimit,
      logLevel: opts.logLevel,
      cacheControl: servers.cacheControl.edge,
    },
    caddy: { version: caddy.version, pid: caddy.pid, cacheControl: servers.cacheControl.caddy },
    standInCoreRequests: { ...standIn.hits },
  });

  const targets: [Target, Target] = [
    { name: 'edge', origin: edge.baseUrl, pid: edge.pid, headers: authorization },
    { name: 'caddy', origin: caddy.baseUrl, pid: caddy.pid, headers: authorization },
  ];
  const shape = {
    paths: thumbnails.map((t) => t.path),
    connections: opts.connections,
    pipelining: opts.pipelining,
  };
  if (opts.warmup > 0) {
    for (const target of targets) {
      note(`warming up ${target.name} for ${opts.warmup}s (not timed)…`);
      const r = await load.run({
        ...shape,
        origin: target.origin,
        headers: target.headers,
        seconds: opts.warmup,
      });
      if (failures(r) > 0) {
        throw new Error(
          `${target.name} failed during warm-up: ${JSON.stringify(r.statusCodes)}, errors ${r.errors}, timeouts ${r.timeouts}`,
        );
      }
    }
  }
  const hitsBefore = { ...standIn.hits };
  const totals = await alternateLoad({
    targets,
    rounds: opts.rounds,
    segmentSeconds: opts.duration / opts.rounds,
    shape,
    load,
    onSegment(target, roundNo, r) {
      const rps = r.requests / r.seconds;
      ctx.report.line('segment', {
        subject: target.name,
        round: roundNo + 1,
        seconds: r.seconds,
        requestsPerSecond: round(rps, 1),
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        generatorCpuSeconds: round(r.cpuSeconds, 2),
      });
    },
  });
  const [edgeTotals, caddyTotals] = [totals.edge, totals.caddy];
  if (!edgeTotals || !caddyTotals) throw new Error('a server was not measured');
  const [edgeFigures, caddyFigures] = [figures(edgeTotals), figures(caddyTotals)];
  const standInDuring = Object.fromEntries(
    Object.entries(standIn.hits).map(([k, n]) => [k, n - (hitsBefore[k] ?? 0)]),
  );
  ctx.report.line('measurement', {
    subject: 'edge',
    tokenChecks: tokenChecks.on,
    ...edgeFigures,
    standInCoreRequests: standInDuring,
  });
  ctx.report.line('measurement', { subject: 'caddy', ...caddyFigures });
  const cpuRatio =
    edgeFigures.serverCpuMicrosPerRequest && caddyFigures.serverCpuMicrosPerRequest
      ? round(caddyFigures.serverCpuMicrosPerRequest / edgeFigures.serverCpuMicrosPerRequest)
      : null;
  return {
    name: 'edge',
    unit: 'requests/s',
    value: edgeFigures.requestsPerSecond,
    baseline: caddyFigures.requestsPerSecond,
    ratio: round(edgeFigures.requestsPerSecond / caddyFigures.requestsPerSecond),
    goal: GOAL,
    baselineName: `caddy ${caddy.version} file_server`,
    tokenChecks: tokenChecks.on,
    images: opts.images,
    connections: opts.connections,
    pipelining: opts.pipelining,
    durationSeconds: opts.duration,
    files: opts.files,
    edgeLatencyMs: { p50: edgeFigures.latencyMs.p50, p99: edgeFigures.latencyMs.p99 },
    caddyLatencyMs: { p50: caddyFigures.latencyMs.p50, p99: caddyFigures.latencyMs.p99 },
    edgeBytesPerSecond: edgeFigures.bytesPerSecond,
    caddyBytesPerSecond: caddyFigures.bytesPerSecond,
    failedRequests: failures(edgeTotals) + failures(caddyTotals),
    rateLimit: { AEX_RATE_LIMIT: rateLimit.AEX_RATE_LIMIT, active: rateLimit.active },
    // Caddy CPU / edge CPU per request: the ratio to expect when the server has the cores
    // to itself, which on a small machine shared with the generator it does not.
    cpuRatio,
    edgeCpuMicrosPerRequest: edgeFigures.serverCpuMicrosPerRequest,
    caddyCpuMicrosPerRequest: caddyFigures.serverCpuMicrosPerRequest,
    otherLoadCores: Math.max(edgeFigures.otherLoadCores ?? 0, caddyFigures.otherLoadCores ?? 0),
    sharedCores: availableParallelism(),
  };
}

const edgeBench: Benchmark = {
  description:
    'cached thumbnail GETs with a bearer token: `aex serve edge` on Bun vs. Caddy file_server (requests/s)',
  usage,
  run,
};
export default edgeBench;
