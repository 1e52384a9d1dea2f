import { freePort, REPO_ROOT } from '@aex/shared/testing/processes';
import { keepLastLines, stopChild } from './child-process.ts';

// Backends a benchmark of the embedded mode must not pick up from the caller's shell:
// with them set, `aex serve all` would measure a remote Postgres/NATS/S3 instead.
const REMOTE_BACKENDS = ['DATABASE_URL', 'NATS_URL', 'S3_BUCKET', 'S3_ENDPOINT', 'MILVUS_ADDRESS'];

/** The first admin of every AEX a benchmark starts (AEX_ADMIN_EMAIL / AEX_ADMIN_PASSWORD). */
export const BENCH_ADMIN = Object.freeze({
  email: 'bench-admin@aex.test',
  password: 'bench-admin-password',
});

export interface AexServer {
  pid: number;
  baseUrl: string;
  /** The last lines it printed, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/**
 * Starts the real `bun core/bin/aex.ts serve <role>` as a child, with the same Bun binary
 * that runs the benchmark, so its pid is the server's own (not an npx wrapper's) and its
 * /proc figures are AEX's. Resolves once `GET /healthz` answers 200.
 */
export async function startAex(options: {
  role?: string;
  env: Record<string, string>;
  healthTimeoutMs?: number;
}): Promise<AexServer> {
  const port = await freePort();
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of REMOTE_BACKENDS) delete env[name];
  const proc = Bun.spawn([process.execPath, 'core/bin/aex.ts', 'serve', options.role ?? 'all'], {
    cwd: REPO_ROOT,
    env: {
      ...env,
      AEX_HOST: '127.0.0.1',
      PORT: String(port),
      AEX_ADMIN_EMAIL: BENCH_ADMIN.email,
      AEX_ADMIN_PASSWORD: BENCH_ADMIN.password,
      ...options.env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const lines = keepLastLines(proc, 200);

  const baseUrl = `http://127.0.0.1:${port}`;
  const server: AexServer = {
    pid: proc.pid,
    baseUrl,
    tail: () => lines.slice(-40).join('\n'),
    stop: (graceMs = 15_000) => stopChild(proc, graceMs),
  };

  const deadline = Date.now() + (options.healthTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return server;
    await Bun.sleep(100);
  }
  await server.stop(2000);
  throw new Error(`aex serve did not become healthy at ${baseUrl}/healthz:\n${server.tail()}`);
}
