import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The `caddy` binary on the PATH; without it Caddy suites are skipped and say so. */
export const CADDY_BIN = Bun.which('caddy');

/** A `caddy run` started by a test. */
export interface CaddyProcess {
  /** Caddy's own log lines (JSON) so far, for failure messages. */
  readonly output: string[];
  /** Stops Caddy (SIGTERM, then SIGKILL after 5 s) and removes its state directory. */
  stop(): Promise<void>;
}

/**
 * Environment for a Caddy run by tests: PATH, and HOME/XDG dirs in `stateDir`, so `caddy run`
 * (which autosaves its config and keeps a local CA under them) never writes to the user's
 * home. Nothing else of the test's environment leaks into the Caddyfile's placeholders.
 */
export function caddyEnv(stateDir: string, env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: stateDir,
    XDG_CONFIG_HOME: join(stateDir, 'config'),
    XDG_DATA_HOME: join(stateDir, 'data'),
    ...env,
  };
}

/**
 * Runs `caddy run --config <caddyfile> --adapter caddyfile` with `env` and resolves once
 * `readyUrl` answers 200, or rejects with Caddy's output. The Caddyfile should say
 * `admin off`: two test files then never fight over the admin port.
 */
export async function startCaddy(options: {
  caddyfile: string;
  env: Record<string, string>;
  readyUrl: string;
  /** Accept any certificate while waiting (a site on Caddy's local CA). */
  insecureTls?: boolean;
  timeoutMs?: number;
}): Promise<CaddyProcess> {
  if (!CADDY_BIN) throw new Error('caddy is not on the PATH');
  const stateDir = mkdtempSync(join(tmpdir(), 'aex-caddy-'));
  const proc = Bun.spawn(
    [CADDY_BIN, 'run', '--config', options.caddyfile, '--adapter', 'caddyfile'],
    { env: caddyEnv(stateDir, options.env), stdout: 'pipe', stderr: 'pipe' },
  );
  // A test runner that dies before afterAll must not leave Caddy holding its port.
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  const output: string[] = [];
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        output.push(...r.value.split('\n').filter(Boolean));
      }
    })();
  }
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000)]);
      if (!exited) proc.kill('SIGKILL');
      await proc.exited;
    }
    process.off('exit', killOnExit);
    rmSync(stateDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline && proc.exitCode === null) {
    const tls = options.insecureTls ? { rejectUnauthorized: false } : undefined;
    const ok = await fetch(options.readyUrl, { tls }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { output, stop };
    await Bun.sleep(50);
  }
  await stop();
  throw new Error(
    `caddy did not serve ${options.readyUrl} (exit ${proc.exitCode}):\n${output.slice(-30).join('\n')}`,
  );
}
