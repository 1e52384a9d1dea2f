import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.ts';
import { reachable } from './servers.ts';

/** The `nats-server` binary on the PATH; without it the suites that start one are skipped. */
export const NATS_SERVER_BIN =
  Bun.which('nats-server') ?? Bun.which('nats-server', { PATH: '/usr/sbin:/usr/local/bin' });

/** A nats-server of a test's own, with JetStream and a WebSocket listener, on free ports. */
export interface NatsTestServer {
  /** `nats://127.0.0.1:<port>` (TCP clients, JetStream). */
  readonly url: string;
  /** `ws://127.0.0.1:<port>` (the WebSocket listener). */
  readonly wsUrl: string;
  readonly output: string[];
  /** Stops the server (SIGTERM); its ports and JetStream store are kept for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and store. */
  start(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

/**
 * Starts `nats-server` with `-js` and a `websocket { no_tls: true }` block (nats-server 2.2+)
 * on free loopback ports, resolving once both listeners accept connections. The shared
 * server at AEX_TEST_NATS_URL has no WebSocket listener, and tests that restart the server
 * must not disturb other suites.
 */
export async function startNatsTestServer(): Promise<NatsTestServer> {
  if (!NATS_SERVER_BIN) throw new Error('nats-server is not on the PATH');
  const bin = NATS_SERVER_BIN;
  const dir = await mkdtemp(join(tmpdir(), 'aex-nats-'));
  const port = await freePort();
  const wsPort = await freePort();
  const config = join(dir, 'nats.conf');
  await writeFile(
    config,
    [
      `listen: 127.0.0.1:${port}`,
      `jetstream { store_dir: "${join(dir, 'js')}" }`,
      `websocket { host: 127.0.0.1, port: ${wsPort}, no_tls: true }`,
      '',
    ].join('\n'),
  );
  const output: string[] = [];
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const killOnExit = () => proc?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const start = async () => {
    proc = Bun.spawn([bin, '-c', config], { stdout: 'pipe', stderr: 'pipe' });
    for (const stream of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[]) {
      void (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
          output.push(...decoder.decode(chunk, { stream: true }).split('\n').filter(Boolean));
        }
      })().catch(() => undefined);
    }
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break;
      const up =
        (await reachable(`nats://127.0.0.1:${port}`, port, 200)) &&
        (await reachable(`ws://127.0.0.1:${wsPort}`, wsPort, 200));
      if (up) return;
      await Bun.sleep(50);
    }
    throw new Error(`nats-server did not start:\n${output.slice(-20).join('\n')}`);
  };
  const stop = async () => {
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await proc.exited;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    output,
    stop,
    start,
    async dispose() {
      await stop();
      process.off('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
