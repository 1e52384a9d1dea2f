import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@aex/shared/testing/processes';
import { keepLastLines, stopChild } from '../lib/child-process.ts';

export interface CaddyServer {
  pid: number;
  baseUrl: string;
  version: string;
  /** The last lines it printed, for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

/** `caddy version`'s first word, or null when there is no runnable caddy. */
export function caddyVersion(bin: string): string | null {
  const r = spawnSync(bin, ['version'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? (r.stdout.trim().split(/\s+/)[0] ?? null) : null;
}

/**
 * The Caddyfile of the baseline: a plain HTTP site on loopback whose file_server answers
 * `siteDir` with `headers` set on every answer (ETag and Last-Modified are file_server's
 * own). No admin endpoint, no automatic HTTPS, no access log (Caddy logs none unless asked),
 * so it does the work a static file server must do and nothing else.
 */
export function caddyfile(port: number, siteDir: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(
    ([name, value]) => `\theader ${name} ${JSON.stringify(value)}`,
  );
  return `{
\tadmin off
\tauto_https off
}

http://127.0.0.1:${port} {
\troot * ${JSON.stringify(siteDir)}
${lines.join('\n')}
\tfile_server
}
`;
}

/** Starts `caddy run` on a free loopback port; resolves once `probePath` answers 200. */
export async function startCaddy(options: {
  bin: string;
  dir: string;
  siteDir: string;
  /** Set on every answer, e.g. the Content-Type and Cache-Control the edge sends. */
  headers: Record<string, string>;
  probePath: string;
}): Promise<CaddyServer> {
  const version = caddyVersion(options.bin);
  if (!version) throw new Error(`no runnable caddy at ${options.bin} (set --caddy)`);
  const port = await freePort();
  // Caddy keeps its autosaved config and certificate storage under XDG folders: point them
  // into the temporary folder so the run leaves nothing in the user's home.
  const xdg = join(options.dir, 'xdg');
  await mkdir(xdg, { recursive: true });
  const config = join(options.dir, 'Caddyfile');
  await writeFile(config, caddyfile(port, options.siteDir, options.headers));
  const proc = Bun.spawn([options.bin, 'run', '--config', config, '--adapter', 'caddyfile'], {
    env: { ...process.env, XDG_DATA_HOME: xdg, XDG_CONFIG_HOME: xdg },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const lines = keepLastLines(proc, 100);
  const baseUrl = `http://127.0.0.1:${port}`;
  const server: CaddyServer = {
    pid: proc.pid,
    baseUrl,
    version,
    tail: () => lines.slice(-20).join('\n'),
    async stop() {
      await stopChild(proc, 5000);
    },
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    const ok = await fetch(`${baseUrl}${options.probePath}`).then(
      async (r) => {
        await r.arrayBuffer();
        return r.ok;
      },
      () => false,
    );
    if (ok) return server;
    await Bun.sleep(100);
  }
  await server.stop();
  throw new Error(`caddy did not answer ${baseUrl}${options.probePath}:\n${server.tail()}`);
}
