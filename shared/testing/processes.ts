import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export const REPO_ROOT = resolve(import.meta.dir, '../..');

/** An `aex` process started by a test, with its output kept for assertions and failures. */
export interface AexProcess {
  readonly output: string[];
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  /** Resolves when `url` answers 200, or rejects with the process output. */
  waitHealthy(url: string, timeoutMs?: number): Promise<void>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number>;
}

/** Starts `bun core/bin/aex.ts <args>` with `env` on top of the test's environment. */
export function spawnAex(args: string[], env: Record<string, string>): AexProcess {
  const proc = Bun.spawn([process.execPath, 'core/bin/aex.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const output: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let rest = '';
    const reader = stream.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
      rest = lines.pop() ?? '';
      output.push(...lines);
    }
    if (rest) output.push(rest);
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  return {
    output,
    logs() {
      return output.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    },
    async waitHealthy(url, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (proc.exitCode !== null) break;
        const ok = await fetch(url).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        await Bun.sleep(100);
      }
      throw new Error(
        `aex ${args.join(' ')} did not become healthy at ${url}:\n${output.slice(-40).join('\n')}`,
      );
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
}
