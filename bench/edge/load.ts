import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { LoadJob, LoadResult } from './load-driver.ts';

export type { LoadResult } from './load-driver.ts';

export interface LoadGenerator {
  /** `autocannon <version> on node <version>`. */
  describe: string;
  /** Runs one timed load; `onTick` gets the requests completed in each second. */
  run(job: Omit<LoadJob, 'autocannon'>, onTick?: (requests: number) => void): Promise<LoadResult>;
  /** Kills a load still running (on Ctrl-C or a failure elsewhere). */
  stop(): void;
}

/**
 * Prepares the load generator: autocannon driven from Node in a child process. Node, not
 * Bun, because autocannon is written for Node's net and http-parser: in a trial here it
 * made ~40% more requests/s under Node than under Bun against the same server. On a small
 * machine the generator shares the cores with the server, so a leaner one leaves more of
 * them to the server. The driver is TypeScript like the rest of the bench; Bun's
 * transpiler strips its types into a .mjs file Node runs as it is (Node 20 cannot run .ts).
 */
export async function prepareLoadGenerator(options: {
  node: string;
  dir: string;
}): Promise<LoadGenerator> {
  const nodeVersion = spawnSync(options.node, ['--version'], { encoding: 'utf8' });
  if (nodeVersion.status !== 0) throw new Error(`no runnable node at ${options.node} (set --node)`);
  const require = createRequire(import.meta.path);
  const autocannon = require.resolve('autocannon');
  const autocannonVersion = (require('autocannon/package.json') as { version: string }).version;
  const source = await readFile(join(import.meta.dir, 'load-driver.ts'), 'utf8');
  const driver = join(options.dir, 'load-driver.mjs');
  await writeFile(driver, new Bun.Transpiler({ loader: 'ts' }).transformSync(source));
  let jobs = 0;
  let running: ReturnType<typeof Bun.spawn> | undefined;

  return {
    describe: `autocannon ${autocannonVersion} on node ${nodeVersion.stdout.trim()}`,
    async run(job, onTick) {
      const file = join(options.dir, `job-${jobs++}.json`);
      await writeFile(file, JSON.stringify({ ...job, autocannon } satisfies LoadJob));
      const proc = Bun.spawn([options.node, driver, file], { stdout: 'pipe', stderr: 'pipe' });
      running = proc;
      const errors: string[] = [];
      const readTicks = async () => {
        const decoder = new TextDecoder();
        let rest = '';
        const reader = proc.stderr.getReader();
        for (;;) {
          const { done, value: chunk } = await reader.read();
          if (done) break;
          const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) {
            const tick = line.startsWith('{"tick"') ? (JSON.parse(line) as { tick: number }) : null;
            if (tick) onTick?.(tick.tick);
            else if (line) errors.push(line);
          }
        }
      };
      const [out, , code] = await Promise.all([
        new Response(proc.stdout).text(),
        readTicks(),
        proc.exited,
      ]);
      running = undefined;
      if (proc.signalCode) throw new Error(`load generator stopped by ${proc.signalCode}`);
      if (code !== 0) {
        throw new Error(`load generator exited ${code}:\n${errors.slice(-20).join('\n')}`);
      }
      return JSON.parse(out.trim().split('\n').at(-1) ?? '') as LoadResult;
    },
    stop() {
      if (running && running.exitCode === null) running.kill('SIGKILL');
    },
  };
}
