import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  cleanup: CleanupStack;
  keepData: boolean;
  note: (text: string) => void;
}): Promise<AexSubject> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aex-bench-data-'));
  if (options.keepData) options.note(`AEX data kept in ${dataDir}`);
  else options.cleanup.add('AEX data dir', () => rm(dataDir, { recursive: true, force: true }));
  const started = performance.now();
  const server = await startAex({
    env: { AEX_DATA_DIR: dataDir, AEX_WORKER_TASKS: 'none', LOG_LEVEL: 'warn' },
  });
  options.cleanup.add('aex serve', () => server.stop());
  const startupSeconds = (performance.now() - started) / 1000;
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
        headers: { 'content-type': 'image/jpeg' },
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

  return {
    name: 'aex',
    pid: server.pid,
    startupSeconds,
    idleRss: memory.read().rss,
    startupPeakRss: startup.peakRss,
    task,
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
