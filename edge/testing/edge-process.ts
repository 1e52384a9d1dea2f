import { test } from 'bun:test';
import { REPO_ROOT } from '@aex/shared/testing/processes';

/** The runtimes the edge runs on; tests start it on each. */
export type EdgeRuntime = 'bun' | 'deno';

const DENO = `${REPO_ROOT}/node_modules/.bin/deno`;

/** The command that starts `edge/bin/edge.ts` on `runtime`. */
function command(runtime: EdgeRuntime): string[] {
  return runtime === 'bun'
    ? [process.execPath, 'edge/bin/edge.ts']
    : [DENO, 'run', '--allow-all', '--quiet', 'edge/bin/edge.ts'];
}

/**
 * Why Deno cannot run here, or null when it can: the suites that need it are then skipped
 * with this reason in their name rather than reported as passing.
 */
export async function denoUnavailable(): Promise<string | null> {
  try {
    const proc = Bun.spawn([DENO, '--version'], { stdout: 'pipe', stderr: 'pipe' });
    const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    return code === 0 && out.startsWith('deno ') ? null : `deno --version exited ${code}`;
  } catch (err) {
    return `deno cannot start: ${(err as Error).message}`;
  }
}

/** A runtime a process suite runs on, and why it is skipped there (null: it runs). */
export interface RuntimeCase {
  runtime: EdgeRuntime;
  missing: string | null;
  /** `test`, or `test.skip` where the runtime cannot start. */
  it: typeof test;
  /** A test name, with the reason appended where the runtime cannot start. */
  title(name: string): string;
}

/**
 * The runtimes the edge's process suites run on (issue 5: "the tests run both"): Bun, and
 * Deno, skipped by name when it cannot start here, never reported as passing.
 */
export async function edgeRuntimes(): Promise<Array<[EdgeRuntime, RuntimeCase]>> {
  const denoMissing = await denoUnavailable();
  return (
    [
      ['bun', null],
      ['deno', denoMissing],
    ] as const
  ).map(([runtime, missing]) => [
    runtime,
    {
      runtime,
      missing,
      it: missing ? test.skip : test,
      title: (name: string) => (missing ? `${name} (skipped: ${missing})` : name),
    },
  ]);
}

/** An edge process started by a test, with its output kept for assertions and failures. */
export interface EdgeProcess {
  readonly runtime: EdgeRuntime;
  readonly url: string;
  readonly output: string[];
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number>;
}

/**
 * Starts the edge alone on `runtime` with `env` (on top of this process's environment) and
 * resolves once `/healthz` answers; rejects with the process's output when it does not.
 */
export async function startEdge(
  runtime: EdgeRuntime,
  port: number,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<EdgeProcess> {
  const proc = Bun.spawn(command(runtime), {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      AEX_HOST: '127.0.0.1',
      PORT: String(port),
      NO_COLOR: '1',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  // A test runner that dies before its afterAll must not leave the edge holding its port.
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  const output: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let rest = '';
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
      rest = lines.pop() ?? '';
      output.push(...lines);
    }
    if (rest) output.push(rest);
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  const url = `http://127.0.0.1:${port}`;
  const edge: EdgeProcess = {
    runtime,
    url,
    output,
    logs: () =>
      output.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await proc.exited;
      clearTimeout(timer);
      process.off('exit', killOnExit);
      return code;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && proc.exitCode === null) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return edge;
    await Bun.sleep(100);
  }
  await edge.stop();
  throw new Error(
    `the edge on ${runtime} did not become healthy at ${url}:\n${output.slice(-40).join('\n')}`,
  );
}
