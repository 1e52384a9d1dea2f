import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { InferenceTaskName } from '@aex/shared';
import { silentLogger } from '@aex/shared/ports/log';
import { type CoreHarness, startCoreHarness } from '../core/src/testing/core-harness.ts';
import { type LoadedTask, parseWorkerConfig, startWorker } from '../gpu-nodes/src/mod.ts';
import { loadTasks } from '../gpu-nodes/src/worker/task-loader.ts';
import { uploadPhotos } from './inference/previews.ts';
import { type RecordedRun, recordSessionRuns, replay } from './inference/session-recorder.ts';
import type { BenchContext, Benchmark, Summary } from './lib/benchmark.ts';
import { round } from './lib/report.ts';

// `npm run bench -- inference`: how close the worker tier comes to the bare model compute.
// AEX: images already ingested (previews in the blob store, `aex.image.ingested` on the bus)
// are taken by a worker running the tags and faces tasks (durable batch consumers, preview
// reads, decoding, preprocessing, inference, postprocessing, result events) and by core's
// result consumers (tags, faces with embeddings into Postgres and the vector index), timed
// from the worker's start to the last persisted result. Baseline: the same sessions' `run`
// calls on the very tensors the tasks made for those previews, replayed back to back.
// Goal (issue 4): ≥ 0.9 × the baseline's images/s.
const GOAL = 0.9;
const TASKS = ['tags', 'faces'] as const satisfies readonly InferenceTaskName[];

const usage = `Options:
  --count N        previews measured (default 48; one in three has faces)
  --rounds N       baseline replays; their median counts (default 3)
  --batch B        AEX_WORKER_BATCH for the worker (default: the worker's default)
  --wait MS        AEX_WORKER_BATCH_WAIT (default: the worker's default)
  --concurrency N  AEX_WORKER_CONCURRENCY, batches in flight per task (default: the worker's)
  --model-dir DIR  models (default AEX_MODEL_DIR, else ../shared/models)`;

function options(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: 'string', default: '48' },
      rounds: { type: 'string', default: '3' },
      batch: { type: 'string' },
      wait: { type: 'string' },
      concurrency: { type: 'string' },
      'model-dir': { type: 'string' },
    },
  });
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  return {
    count: int('count', values.count, 1),
    rounds: int('rounds', values.rounds, 1),
    batch: values.batch,
    wait: values.wait,
    concurrency: values.concurrency,
    modelDir: resolve(
      values['model-dir'] ??
        process.env.AEX_MODEL_DIR ??
        resolve(import.meta.dir, '../../shared/models'),
    ),
  };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function upload(h: CoreHarness, photos: Uint8Array[], note: (t: string) => void) {
  for (const [i, photo] of photos.entries()) {
    const res = await h.request('/api/v1/images', {
      method: 'POST',
      body: photo as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': 'image/jpeg' },
    });
    if (res.status !== 201)
      throw new Error(`upload ${i} answered ${res.status}: ${await res.text()}`);
    if ((i + 1) % 16 === 0) note(`uploaded ${i + 1}/${photos.length}`);
  }
}

async function previewsOf(h: CoreHarness): Promise<Uint8Array[]> {
  const keys = (await h.blobKeys()).filter((k) => k.endsWith('/preview.webp'));
  return Promise.all(
    keys.map(async (key) => {
      const blob = await h.blobs.get(key);
      if (!blob) throw new Error(`preview ${key} vanished`);
      return new Uint8Array(await new Response(blob.body).arrayBuffer());
    }),
  );
}

/** Images with a persisted result of `task` (any version), from the admin API. */
async function covered(h: CoreHarness): Promise<Record<string, number>> {
  const res = await h.request('/api/v1/admin/models');
  if (!res.ok) throw new Error(`GET /api/v1/admin/models answered ${res.status}`);
  const body = (await res.json()) as {
    tasks: Array<{ task: string; versions: Array<{ images: number }> }>;
  };
  const out: Record<string, number> = {};
  for (const t of body.tasks) out[t.task] = t.versions.reduce((s, v) => s + v.images, 0);
  return out;
}

async function run(ctx: BenchContext): Promise<Summary> {
  const opts = options(ctx.args);
  const note = ctx.report.note;
  const log = silentLogger();

  note(`making ${opts.count} photos…`);
  const photos = await uploadPhotos(opts.count);
  const h = await startCoreHarness('embedded');
  ctx.cleanup.add('core', () => h.stop());
  await upload(h, photos, note);
  const previews = await previewsOf(h);
  if (previews.length !== opts.count) {
    throw new Error(`expected ${opts.count} previews, found ${previews.length}`);
  }

  note('loading models…');
  const loaded = await loadTasks(TASKS, { modelDir: opts.modelDir, providers: ['cpu'], log });
  const tasks = new Map(loaded.map((t) => [t.name, t]));
  for (const name of TASKS) {
    if (!tasks.has(name)) throw new Error(`the ${name} task did not load from ${opts.modelDir}`);
  }
  ctx.cleanup.add('models', () => Promise.all(loaded.map((t) => t.close())));

  // The baseline's inputs: each task run over the previews in batches of its own size (the
  // largest batches the worker may form), with every session.run recorded.
  note('recording the tasks’ session runs…');
  const runsOf: Record<string, RecordedRun[]> = {};
  let faces = 0;
  for (const task of loaded) {
    const { result, runs } = await recordSessionRuns(async () => {
      let found = 0;
      for (let i = 0; i < previews.length; i += task.maxBatch) {
        const outcomes = await task.run(previews.slice(i, i + task.maxBatch));
        for (const o of outcomes) {
          if (!o.ok) throw new Error(`${task.name} failed on a preview: ${o.error}`);
          if (task.name === 'faces') found += (o.result as unknown[]).length;
        }
      }
      return found;
    });
    runsOf[task.name] = runs;
    if (task.name === 'faces') faces = result;
  }
  const allRuns = TASKS.flatMap((t) => runsOf[t] ?? []);
  ctx.report.line('config', {
    benchmark: 'inference',
    count: opts.count,
    tasks: loaded.map((t) => ({
      task: t.name,
      model: `${t.model.id}@${t.model.version}`,
      detector: t.detector ? `${t.detector.id}@${t.detector.version}` : undefined,
      provider: t.provider,
      maxBatch: t.maxBatch,
      sessionRuns: runsOf[t.name]?.length ?? 0,
    })),
    facesFound: faces,
    adapters: 'embedded (PGlite with pgvector, disk, embedded bus)',
  });

  const baselineSeconds = async (label: string) => {
    const times: number[] = [];
    const cpu0 = cpuSeconds();
    for (let r = 0; r < opts.rounds; r++) times.push(await replay(allRuns));
    const perTask: Record<string, number> = {};
    for (const name of TASKS) perTask[name] = round(await replay(runsOf[name] ?? []), 3);
    const seconds = median(times);
    const cpu = (cpuSeconds() - cpu0) / (opts.rounds * opts.count);
    ctx.report.line('measurement', {
      subject: 'session.run',
      when: label,
      seconds: round(seconds),
      imagesPerSecond: round(opts.count / seconds),
      secondsPerTask: perTask,
      cpuSecondsPerImage: round(cpu, 4),
    });
    return seconds;
  };

  // The tasks alone on the same previews (decode, preprocessing, inference, postprocessing):
  // what is left between this and AEX is the plumbing (bus, blob reads, events, results).
  const tasksAlone = async () => {
    const started = performance.now();
    for (const task of loaded) {
      for (let i = 0; i < previews.length; i += task.maxBatch) {
        await task.run(previews.slice(i, i + task.maxBatch));
      }
    }
    return (performance.now() - started) / 1000;
  };
  const alone = await tasksAlone();
  ctx.report.line('measurement', {
    subject: 'task.run',
    seconds: round(alone),
    imagesPerSecond: round(opts.count / alone),
  });

  // One unmeasured replay first: the first runs of a session pay for memory arenas and
  // kernel selection that a running worker has long paid.
  await replay(allRuns);
  note('baseline (before)…');
  const before = await baselineSeconds('before');

  note('AEX: worker on the ingested backlog…');
  const env: Record<string, string> = {
    AEX_DATA_DIR: h.dataDir,
    AEX_MODEL_DIR: opts.modelDir,
    AEX_WORKER_TASKS: TASKS.join(','),
    AEX_EXECUTION_PROVIDERS: 'cpu',
    LOG_LEVEL: 'silent',
  };
  if (opts.batch) env.AEX_WORKER_BATCH = opts.batch;
  if (opts.wait) env.AEX_WORKER_BATCH_WAIT = opts.wait;
  if (opts.concurrency) env.AEX_WORKER_CONCURRENCY = opts.concurrency;
  const config = parseWorkerConfig(env);
  // The loaded tasks are handed to the worker, so model loading is not timed (a worker keeps
  // its models loaded), and closing them is left to the benchmark.
  const keep = (task: LoadedTask) => async () =>
    Object.assign(Object.create(task), { close: async () => {} });
  const cpu0 = cpuSeconds();
  const started = performance.now();
  const worker = await startWorker(config, {
    log,
    bus: h.bus,
    blobs: h.blobs,
    factories: Object.fromEntries(loaded.map((t) => [t.name, keep(t)])),
  });
  let done: Record<string, number> = {};
  let last = 0;
  for (;;) {
    done = await covered(h);
    const least = Math.min(...TASKS.map((t) => done[t] ?? 0));
    if (least >= opts.count) break;
    if (least !== last) {
      const s = (performance.now() - started) / 1000;
      note(`  ${least}/${opts.count} images with every result, ${round(least / s, 2)} images/s`);
      last = least;
    }
    if (performance.now() - started > 600_000) throw new Error(`stuck at ${JSON.stringify(done)}`);
    // Each probe is a query on the same PGlite the result consumers write to: not too often.
    await Bun.sleep(200);
  }
  const aexSeconds = (performance.now() - started) / 1000;
  const aexCpu = (cpuSeconds() - cpu0) / opts.count;
  await worker.stop();
  ctx.report.line('measurement', {
    subject: 'aex',
    seconds: round(aexSeconds),
    imagesPerSecond: round(opts.count / aexSeconds),
    cpuSecondsPerImage: round(aexCpu, 4),
    batch: config.AEX_WORKER_BATCH,
    batchWaitMs: config.AEX_WORKER_BATCH_WAIT,
    concurrency: config.AEX_WORKER_CONCURRENCY,
    persisted: done,
  });

  note('baseline (after)…');
  const after = await baselineSeconds('after');
  const baseSeconds = (before + after) / 2;
  const baseRate = opts.count / baseSeconds;
  const aexRate = opts.count / aexSeconds;
  return {
    name: 'inference',
    unit: 'images/s',
    value: round(aexRate),
    baseline: round(baseRate),
    ratio: round(aexRate / baseRate),
    goal: GOAL,
    baselineName: 'session.run replay (tags + faces, same tensors)',
    count: opts.count,
    facesFound: faces,
    provider: 'cpu',
  };
}

const inference: Benchmark = {
  description:
    'worker: ingested event → persisted tags + faces vs. session.run on the same tensors (images/s)',
  usage,
  run,
};
export default inference;
