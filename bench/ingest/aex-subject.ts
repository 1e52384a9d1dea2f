import { link, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '@aex/shared/testing/processes';
import { createApiKey } from '../lib/aex-api-key.ts';
import { startAex } from '../lib/aex-server.ts';
import type { Subject } from '../lib/alternate.ts';
import type { CleanupStack } from '../lib/cleanup.ts';
import { readCpuSeconds, sampleMemory } from '../lib/proc-stats.ts';
import type { Fixture } from './fixtures.ts';

export interface AexSubject extends Subject<Fixture> {
  pid: number;
  startupSeconds: number;
  /** Resident set once healthy, before any upload. */
  idleRss: number;
  /** Peak resident set of start-up (opening PGlite, migrations), before any upload. */
  startupPeakRss: number;
  /** Stops the server; returns its peak (VmHWM) and last resident set and its exit code. */
  finish(): Promise<{ peakRss: number; rss: number; exitCode: number }>;
}

/**
 * AEX end to end: the real all-in-one server (`aex serve all`, embedded PGlite, blobs on
 * disk, embedded bus) in its own process with a fresh data folder; every photo is POSTed
 * through the edge to core. Inference is off (AEX_WORKER_TASKS=none) so the tagger does
 * not compete with ingestion for the cores: this measures ingestion alone.
 */
export async function startAexSubject(options: {
  /** Photos AEX decodes at once (AEX_DECODE_CONCURRENCY): the baseline's concurrency. */
  decodeConcurrency: number;
  /** Uploads `aex import` keeps in flight (its --concurrency). */
  uploads: number;
  cleanup: CleanupStack;
  keepData: boolean;
  note: (text: string) => void;
  /** `import`: each segment is one `aex import <folder>` run; `http`: one POST per photo. */
  via: 'import' | 'http';
}): Promise<AexSubject> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aex-bench-data-'));
  if (options.keepData) options.note(`AEX data kept in ${dataDir}`);
  else options.cleanup.add('AEX data dir', () => rm(dataDir, { recursive: true, force: true }));
  const started = performance.now();
  const server = await startAex({
    env: {
      AEX_DATA_DIR: dataDir,
      AEX_WORKER_TASKS: 'none',
      LOG_LEVEL: 'warn',
      AEX_DECODE_CONCURRENCY: String(options.decodeConcurrency),
    },
  });
  options.cleanup.add('aex serve', () => server.stop());
  const startupSeconds = (performance.now() - started) / 1000;
  // Uploads need an editor: one key for the run, for the HTTP uploads and `aex import` alike.
  const apiKey = await createApiKey(server, 'editor', 'ingest benchmark');
  const memory = sampleMemory(server.pid);
  options.cleanup.add('memory sampler', () => memory.stop());
  // Ingestion's peak is the figure of interest; start-up's is reported apart. Where the
  // reset is impossible (not Linux, no permission) the peak includes start-up.
  const startup = memory.resetPeak();
  if (!startup.reset) options.note('could not reset VmHWM: AEX peak RSS includes start-up');

  const task = async (f: Fixture) => {
    let res: Response;
    try {
      res = await fetch(`${server.baseUrl}/api/v1/images`, {
        method: 'POST',
        body: Bun.file(f.path), // streamed from the file, never read whole here
        headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${apiKey}` },
      });
    } catch (err) {
      throw new Error(`upload of ${f.path} failed: ${(err as Error).message}\n${server.tail()}`);
    }
    const text = await res.text();
    if (res.status !== 201) {
      throw new Error(
        `upload of ${f.path}: expected 201, got ${res.status}: ${text.slice(0, 400)}`,
      );
    }
  };
  const cpuSeconds = () => readCpuSeconds(server.pid);

  // `aex import` over a folder holding just this segment's photos (hard links: no copies).
  const segments = await mkdtemp(join(tmpdir(), 'aex-bench-import-'));
  options.cleanup.add('import folders', () => rm(segments, { recursive: true, force: true }));
  let segmentNo = 0;
  // The segment's concurrency is the baseline's: AEX decodes that many photos at once
  // (AEX_DECODE_CONCURRENCY above), while the importer keeps `uploads` requests in flight so
  // that the next photo is already spooled when a decode finishes, as it would with any client.
  const runSegment = async (items: readonly Fixture[]) => {
    const dir = join(segments, String(segmentNo++));
    await mkdir(dir);
    await Promise.all(items.map((f) => link(f.path, join(dir, basename(f.path)))));
    const proc = Bun.spawn(
      [
        process.execPath,
        'core/bin/aex.ts',
        'import',
        dir,
        '--server',
        server.baseUrl,
        '--json',
        '--no-cache',
        '--concurrency',
        String(options.uploads),
      ],
      {
        cwd: REPO_ROOT,
        stdout: 'pipe',
        stderr: 'pipe',
        env: { ...process.env, AEX_API_KEY: apiKey, AEX_TOKEN: '' },
      },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    const summary = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { imported?: number };
    if (code !== 0 || summary.imported !== items.length) {
      throw new Error(
        `aex import of ${items.length} photos: exit ${code}, imported ${summary.imported}\n${err.slice(-2000)}\n${out.slice(-2000)}`,
      );
    }
  };

  return {
    name: 'aex',
    pid: server.pid,
    startupSeconds,
    idleRss: memory.read().rss,
    startupPeakRss: startup.peakRss,
    task,
    runSegment: options.via === 'import' ? runSegment : undefined,
    cpuSeconds,
    // Work AEX defers past its 201 (the outbox relay publishing `aex.image.ingested`) must
    // not run on the baseline's time: wait until the server is idle (≤5% of a core over
    // 250 ms, at most 5 s). That CPU still counts in AEX's CPU per image (see alternate).
    async settle() {
      const deadline = performance.now() + 5000;
      while (performance.now() < deadline) {
        const before = cpuSeconds();
        await Bun.sleep(250);
        const after = cpuSeconds();
        if (before === null || after === null || after - before <= 0.0125) return;
      }
    },
    async finish() {
      const { peakRss, rss } = memory.read();
      memory.stop();
      const exitCode = await server.stop();
      return { peakRss, rss, exitCode };
    },
  };
}
