import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { startAexSubject } from './ingest/aex-subject.ts';
import { type Fixture, makeFixtures } from './ingest/fixtures.ts';
import { sharpDerive } from './ingest/sharp-derive.ts';
import { alternate, type Measured, type Subject } from './lib/alternate.ts';
import type { BenchContext, Benchmark, Summary } from './lib/benchmark.ts';
import { forEachPooled } from './lib/pool.ts';
import { readCpuSeconds } from './lib/proc-stats.ts';
import { MiB, round } from './lib/report.ts';

// `npm run bench -- ingest`: how close `aex import` of a folder into the running all-in-one
// server (the client's hashing and batch-status, then HTTP → edge → core: spool, sha256,
// sniff, one decode, derived images, metadata, blobs, row + outbox) comes to the bare
// decode-and-derive work any ingester must do, on the same photos at the same concurrency.
// Goal (issue 3): AEX's plumbing costs at most 15% of the throughput. `--via http` POSTs
// each photo instead of running the importer.
// "The same concurrency" is photos decoded at once: C workers in the baseline, C decode slots
// in AEX (AEX_DECODE_CONCURRENCY, which defaults to the cores). The importer keeps 2 × C
// uploads in flight (`--uploads`) so a slot that frees finds the next photo already spooled;
// with `--uploads C` each slot also waits through its upload's transfer, database writes and
// answer, which the baseline never has.
const GOAL = 0.85;

const usage = `Options:
  --count N         photos measured per subject (default 200)
  --concurrency C   photos decoded at once, by the baseline and by AEX (AEX_DECODE_CONCURRENCY)
                    (default: CPU cores = ${availableParallelism()})
  --uploads U       uploads \`aex import\` keeps in flight (its --concurrency; default 2 × C):
                    while C photos decode, the next ones are on their way and spooled
  --warmup N        photos processed first and not timed, per subject (default 10)
  --seed N          seed of the generated photos (default 1)
  --segment N       photos per turn: the subjects alternate A B, B A, … (default 40)
  --fixtures DIR    keep the generated photos in DIR and reuse them next time (default: a
                    temporary folder, deleted at the end)
  --keep-data       keep AEX's data folder (database, blobs) and print where it is
  --via import|http how AEX is fed: \`aex import <folder>\` per segment (default) or one
                    POST per photo`;

function options(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: String(availableParallelism()) },
      uploads: { type: 'string' },
      warmup: { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      segment: { type: 'string', default: '40' },
      fixtures: { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      via: { type: 'string', default: 'import' },
    },
  });
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const concurrency = int('concurrency', values.concurrency, 1);
  return {
    count: int('count', values.count, 1),
    concurrency,
    uploads: values.uploads === undefined ? 2 * concurrency : int('uploads', values.uploads, 1),
    warmup: int('warmup', values.warmup, 0),
    seed: int('seed', values.seed, 0),
    segment: int('segment', values.segment, 1),
    fixtures: values.fixtures ? resolve(values.fixtures) : undefined,
    keepData: values['keep-data'],
    via: values.via === 'http' ? ('http' as const) : ('import' as const),
  };
}

/** The JSON shape of one subject's figures. */
function figures(m: Measured) {
  return {
    images: m.count,
    seconds: round(m.seconds),
    imagesPerSecond: round(m.perSecond),
    mbPerSecond: round(m.mbPerSecond),
    latencyMs: {
      p50: round(m.latencyMs.p50, 1),
      p95: round(m.latencyMs.p95, 1),
      max: round(m.latencyMs.max, 1),
    },
    // CPU per image tells "more work" apart from "work spread badly over the cores", and
    // unlike images/s it hardly moves when another load shares the machine.
    cpuSecondsPerImage: m.cpuSeconds === null ? null : round(m.cpuSeconds / m.count, 4),
    cpuUtilisation: m.cpuSeconds === null ? null : round(m.cpuSeconds / m.seconds, 3),
    otherLoadCores: m.otherLoadCores === null ? null : round(m.otherLoadCores, 2),
  };
}

function processCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function run(ctx: BenchContext): Promise<Summary> {
  const opts = options(ctx.args);
  ctx.report.line('config', {
    benchmark: 'ingest',
    count: opts.count,
    concurrency: opts.concurrency,
    uploads: opts.uploads,
    warmup: opts.warmup,
    seed: opts.seed,
    image: { width: 4000, height: 3000, format: 'jpeg' },
    sharp: {
      sharp: sharp.versions.sharp,
      vips: sharp.versions.vips,
      mozjpeg: sharp.versions.mozjpeg,
      webp: sharp.versions.webp,
    },
    segment: opts.segment,
    order: 'alternating segments, ABBA',
  });
  let dir = opts.fixtures;
  if (dir) await mkdir(dir, { recursive: true });
  else {
    const tmp = await mkdtemp(join(tmpdir(), 'aex-bench-photos-'));
    ctx.cleanup.add('photos', () => rm(tmp, { recursive: true, force: true }));
    dir = tmp;
  }
  const all = await makeFixtures({
    dir,
    count: opts.warmup + opts.count,
    seed: opts.seed,
    concurrency: availableParallelism(),
  });
  const warm = all.slice(0, opts.warmup);
  const timed = all.slice(opts.warmup);
  const totalBytes = timed.reduce((s, f) => s + f.bytes, 0);
  ctx.report.line('fixtures', {
    dir: opts.fixtures ?? 'temporary',
    photos: all.length,
    meanMB: round(totalBytes / 1e6 / timed.length, 2),
  });

  // The baseline runs in this process: the same photos, the same concurrency.
  const baseline: Subject<Fixture> = {
    name: 'sharp-derive',
    task: async (f) => void (await sharpDerive(f.path)),
    cpuSeconds: processCpuSeconds,
  };
  const aex = await startAexSubject({
    decodeConcurrency: opts.concurrency,
    uploads: opts.uploads,
    cleanup: ctx.cleanup,
    keepData: opts.keepData,
    note: ctx.report.note,
    via: opts.via,
  });
  for (const subject of [baseline, aex]) await forEachPooled(warm, opts.concurrency, subject.task);
  const measured = await alternate({
    subjects: [baseline, aex],
    items: timed,
    concurrency: opts.concurrency,
    segmentSize: opts.segment,
    bytesOf: (f) => f.bytes,
    ownCpuSeconds: () => processCpuSeconds() + (readCpuSeconds(aex.pid) ?? 0),
  });
  const memory = await aex.finish();
  const [b, a] = [measured['sharp-derive'] as Measured, measured.aex as Measured];
  const [base, mine] = [figures(b), figures(a)];
  ctx.report.line('measurement', { subject: 'sharp-derive', ...base });
  ctx.report.line('measurement', {
    subject: 'aex',
    ...mine,
    startupSeconds: round(aex.startupSeconds, 2),
    startupPeakRssMiB: round(aex.startupPeakRss / MiB, 1),
    idleRssMiB: round(aex.idleRss / MiB, 1),
    finalRssMiB: round(memory.rss / MiB, 1),
    peakRssMiB: round(memory.peakRss / MiB, 1),
    exitCode: memory.exitCode,
  });
  const cpuRatio =
    base.cpuSecondsPerImage && mine.cpuSecondsPerImage
      ? round(base.cpuSecondsPerImage / mine.cpuSecondsPerImage)
      : null;
  return {
    name: 'ingest',
    unit: 'images/s',
    value: mine.imagesPerSecond,
    baseline: base.imagesPerSecond,
    ratio: round(a.perSecond / b.perSecond),
    goal: GOAL,
    baselineName: 'sharp-derive',
    via: opts.via,
    count: opts.count,
    concurrency: opts.concurrency,
    uploads: opts.via === 'import' ? opts.uploads : opts.concurrency,
    aexMBps: mine.mbPerSecond,
    baselineMBps: base.mbPerSecond,
    // Peak during warm-up and measurement (VmHWM reset once AEX was healthy).
    aexPeakRssMiB: round(memory.peakRss / MiB, 1),
    aexCpuSecondsPerImage: mine.cpuSecondsPerImage,
    baselineCpuSecondsPerImage: base.cpuSecondsPerImage,
    // Baseline CPU / AEX CPU per image: the ratio to expect when every core is busy; it
    // hardly moves with other loads on the machine, which images/s does.
    cpuRatio,
    otherLoadCores: Math.max(base.otherLoadCores ?? 0, mine.otherLoadCores ?? 0),
  };
}

const ingest: Benchmark = {
  description:
    '`aex import` of 12 MP JPEGs into `aex serve all` vs. sharp decode + preview/thumb/thumbhash alone (images/s)',
  usage,
  run,
};
export default ingest;
