import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelEntry, PullProgress } from '@aex/gpu-nodes';
import { formatSeconds } from '@aex/shared/cli/progress';

export const MODELS_USAGE = `Usage: aex models <command>

Commands:
  list [--dir DIR]                    every model AEX knows, and whether its files are here
  pull <id>... | --all [--dir DIR]    download models, verified against their sha256

Models live in --dir, else $AEX_MODEL_DIR, else $AEX_DATA_DIR/models (./data/models).
--all pulls every model except the test-only ones. On an air-gapped site set
AEX_MODEL_MIRROR=https://host/prefix to fetch every file from <prefix>/<id>/<file name>.
Files the registry has no sha256 for are pinned by their first pull (<dir>/<id>/models.lock.json).`;

/** Where the command writes; tests hand in their own. */
export interface ModelsCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
}

const processIo: ModelsCommandIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
};

/** `aex models`: returns the exit code (0 done, 1 a pull failed, 2 bad usage). */
export async function runModels(argv: string[], io: ModelsCommandIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr.write(`aex models: ${(err as Error).message}\n\n${MODELS_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...ids] = positionals;
  if (values.help || !command) {
    io[command || values.help ? 'stdout' : 'stderr'].write(`${MODELS_USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const modelDir = resolve(
    values.dir ?? io.env.AEX_MODEL_DIR ?? join(io.env.AEX_DATA_DIR ?? './data', 'models'),
  );
  // Loaded here, not at the top: `aex serve edge` must not load ONNX Runtime.
  const gpu = await import('@aex/gpu-nodes');
  if (command === 'list') return list(gpu, modelDir, io);
  if (command !== 'pull') {
    io.stderr.write(`aex models: unknown command "${command}"\n\n${MODELS_USAGE}\n`);
    return 2;
  }
  if (values.all === ids.length > 0) {
    io.stderr.write(`aex models pull: give model ids or --all (not both)\n\n${MODELS_USAGE}\n`);
    return 2;
  }
  const mirror = io.env.AEX_MODEL_MIRROR || undefined;
  if (mirror && !/^https?:\/\/[^/]/.test(mirror)) {
    io.stderr.write(`aex models pull: AEX_MODEL_MIRROR must be an http(s) URL, got "${mirror}"\n`);
    return 2;
  }
  let entries: ModelEntry[];
  try {
    entries = values.all
      ? gpu.MODEL_REGISTRY.filter((m) => !m.testOnly)
      : ids.map((id) => gpu.getModelEntry(id));
  } catch (err) {
    io.stderr.write(`aex models pull: ${(err as Error).message}\n`);
    return 2;
  }
  let failed = 0;
  for (const entry of entries) {
    io.stdout.write(`${entry.id} ${entry.version} → ${join(modelDir, entry.id)}\n`);
    const bar = new DownloadLine(io.stderr);
    try {
      const files = await gpu.pullModel(entry, {
        modelDir,
        mirror,
        onProgress: (p) => bar.update(p),
      });
      bar.end();
      for (const f of files) {
        const what = f.outcome === 'npm' ? `from the installed npm package (${f.path})` : f.outcome;
        const pin = f.pinned ? `, pinned in ${gpu.MODEL_LOCK_FILE}` : '';
        io.stdout.write(
          `  ${f.name}: ${what}, ${megabytes(f.bytes)}, sha256 ${f.sha256.slice(0, 12)}…${pin}\n`,
        );
      }
    } catch (err) {
      bar.end();
      failed++;
      io.stderr.write(`aex models pull: ${(err as Error).message}\n`);
    }
  }
  if (failed > 0) io.stderr.write(`aex models pull: ${failed} of ${entries.length} failed\n`);
  return failed > 0 ? 1 : 0;
}

async function list(
  gpu: typeof import('@aex/gpu-nodes'),
  modelDir: string,
  io: ModelsCommandIo,
): Promise<number> {
  const rows = [['ID', 'VERSION', 'TASK', 'SIZE', 'STATUS', 'SHA256', 'LICENCE']];
  for (const entry of gpu.MODEL_REGISTRY) {
    const files = await gpu.inspectModel(entry, modelDir);
    const here = files.filter((f) => f.state === 'present' || f.state === 'npm').length;
    const wrong = files.filter((f) => f.state === 'wrong-size').map((f) => f.name);
    const status =
      wrong.length > 0
        ? `wrong size: ${wrong.join(', ')}`
        : here === files.length
          ? files.every((f) => f.state === 'npm')
            ? 'present (npm)'
            : 'present'
          : here === 0
            ? 'missing'
            : `partial ${here}/${files.length}`;
    const unknown = entry.files.some((f) => f.sha256 === null);
    const sums = !unknown ? 'registry' : files.some((f) => f.unpinned) ? 'unpinned' : 'pinned';
    const sizes = entry.files.map((f) => f.bytes);
    const size = sizes.every((b) => b !== undefined)
      ? megabytes(sizes.reduce((a: number, b) => a + (b ?? 0), 0))
      : '?';
    const id = entry.testOnly ? `${entry.id} (test only)` : entry.id;
    rows.push([id, entry.version, entry.task, size, status, sums, entry.license]);
  }
  io.stdout.write(`Models in ${modelDir}\n${formatTable(rows)}`);
  return 0;
}

function formatTable(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows
    .map(
      (r) =>
        `${r
          .map((cell, col) => cell.padEnd(widths[col] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

function megabytes(bytes: number): string {
  return bytes < 1e5 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

// One download's progress on stderr (CONVENTIONS rule 10: amount, rate, ETA): redrawn in place
// on a terminal, a line every few seconds and at the end in a log.
class DownloadLine {
  private started = performance.now();
  private lastDraw = 0;
  private file = '';
  private drawn = false;

  constructor(private readonly stream: ModelsCommandIo['stderr']) {}

  update(p: PullProgress): void {
    if (p.file !== this.file) {
      this.end();
      this.file = p.file;
      this.started = performance.now();
      this.lastDraw = 0;
    }
    const now = performance.now();
    const done = p.total !== null && p.received >= p.total;
    if (!done && now - this.lastDraw < (this.stream.isTTY ? 100 : 5000)) return;
    this.lastDraw = now;
    const seconds = Math.max((now - this.started) / 1000, 1e-3);
    const rate = p.received / seconds;
    const pct = p.total ? Math.min(100, (100 * p.received) / p.total) : null;
    const bar =
      pct === null
        ? ''
        : `[${'#'.repeat(Math.round(pct / 5)).padEnd(20, '.')}] ${pct.toFixed(0)}% `;
    const eta = p.total && rate > 0 ? (p.total - p.received) / rate : Number.NaN;
    const line =
      `${p.model}/${p.file} ${bar}${megabytes(p.received)}` +
      `${p.total ? ` of ${megabytes(p.total)}` : ''}, ${(rate / 1e6).toFixed(1)} MB/s, ` +
      `ETA ${done ? '0s' : formatSeconds(eta)}`;
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
    this.drawn = true;
  }

  /** Ends a redrawn line so the next output starts on its own. */
  end(): void {
    if (this.drawn && this.stream.isTTY) this.stream.write('\n');
    this.drawn = false;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
