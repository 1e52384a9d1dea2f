import type { EdgeConfig } from '@aex/edge';
import type { WorkerConfig } from '@aex/gpu-nodes';
import { ConfigError } from '@aex/shared';
import { createBlobStore } from '@aex/shared/ports/blob-store/create';
import { createEventBus } from '@aex/shared/ports/event-bus/create';
import { createLogger, type Logger } from '@aex/shared/ports/log';
import { createRpc } from '@aex/shared/ports/rpc/create';
import { resolveUrlSigningKey } from '@aex/shared/ports/secrets/url-signing-key';
import type { CoreConfig } from '../src/mod.ts';

export type Role = 'all' | 'core' | 'edge' | 'worker';

interface Configs {
  core?: CoreConfig;
  edge?: EdgeConfig;
  worker?: WorkerConfig;
}

/**
 * Parses the configs a role needs, listing every bad variable of all of them at once. Each
 * service's package is loaded only for the roles that run it: an edge never loads ONNX
 * Runtime, a worker never loads PGlite.
 */
export async function parseConfigs(
  role: Role,
  env: Record<string, string | undefined>,
): Promise<Configs> {
  const problems: string[] = [];
  const configs: Configs = {};
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) if (!problems.includes(p)) problems.push(p);
      return undefined;
    }
  };
  if (role === 'all' || role === 'core') {
    const { parseCoreConfig } = await import('../src/mod.ts');
    configs.core = attempt(() => parseCoreConfig(env));
  }
  if (role === 'all' || role === 'edge') {
    const { parseEdgeConfig } = await import('@aex/edge');
    configs.edge = attempt(() => parseEdgeConfig(env));
  }
  if (role === 'all' || role === 'worker') {
    const { parseWorkerConfig } = await import('@aex/gpu-nodes');
    configs.worker = attempt(() => parseWorkerConfig(env));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return configs;
}

/** A started role: what to stop, in order, on shutdown. */
interface Running {
  stop(): Promise<void>;
}

/**
 * `aex serve <role>`: `all` runs edge, core and a worker in one process on the adapters the
 * environment names (embedded by default); the others run one service alone.
 */
export async function serve(role: Role, env: Record<string, string | undefined>): Promise<Running> {
  const configs = await parseConfigs(role, env);
  const base = (configs.core ?? configs.edge ?? configs.worker) as CoreConfig &
    EdgeConfig &
    WorkerConfig;
  // Core signs internal thumbnail URLs and the edge checks them, with one shared key. The
  // all-in-one process is both, so it may make one; core or edge alone must be given it.
  const urlSigningKey =
    role === 'worker'
      ? undefined
      : await resolveUrlSigningKey({
          configured: configs.core?.AEX_URL_SIGNING_KEY ?? configs.edge?.AEX_URL_SIGNING_KEY,
          dataDir: base.AEX_DATA_DIR,
          whenMissing: role === 'all' ? 'generate' : 'existing',
        });
  // All-in-one: each service's child logger names it, so the root names none (no duplicate keys).
  const log = createLogger(role === 'all' ? undefined : role, base.LOG_LEVEL);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err) => log.error({ err }, 'shutdown step failed'));
  };
  try {
    const blobs = createBlobStore(base, { dataDir: base.AEX_DATA_DIR });
    stops.push(() => blobs.close());
    const needsBus = role !== 'edge';
    const bus = needsBus
      ? await createEventBus(base, {
          dataDir: base.AEX_DATA_DIR,
          log: log.child({ component: 'bus' }),
          subjectPrefix: base.NATS_SUBJECT_PREFIX,
        })
      : undefined;
    if (bus) stops.push(() => bus.close());
    // Request/reply (text embeddings for search) beside the bus: NATS, or in-process for `all`.
    const rpc = needsBus
      ? await createRpc(base, {
          log: log.child({ component: 'rpc' }),
          subjectPrefix: base.NATS_SUBJECT_PREFIX,
        })
      : undefined;
    if (rpc) stops.push(() => rpc.close());

    let coreFetch: ((r: Request) => Response | Promise<Response>) | undefined;
    if (configs.core && bus) {
      const { startCore } = await import('../src/mod.ts');
      const core = await startCore(configs.core, {
        log: child(log, role, 'core'),
        bus,
        blobs,
        rpc,
        urlSigningKey,
      });
      stops.push(() => core.stop());
      coreFetch = core.fetch;
      if (role === 'core')
        stops.push(listen(child(log, role, 'core'), 'core', configs.core.CORE_PORT, core.fetch));
    }
    if (configs.worker && bus) {
      const { startWorker } = await import('@aex/gpu-nodes');
      const worker = await startWorker(configs.worker, {
        log: child(log, role, 'worker'),
        bus,
        blobs,
        rpc,
      });
      stops.push(() => worker.stop());
      if (role === 'worker') {
        const health = () => Response.json({ status: 'ok', tasks: worker.tasks });
        stops.push(
          listen(child(log, role, 'worker'), 'worker', configs.worker.WORKER_PORT, health),
        );
      }
    }
    if (configs.edge) {
      const { createEdge } = await import('@aex/edge');
      const edge = createEdge(configs.edge, {
        log: child(log, role, 'edge'),
        blobs,
        upstream: coreFetch,
        urlSigningKey,
      });
      stops.push(() => edge.close());
      // All-in-one: the edge hears of deletes on the bus it shares with core.
      if (role === 'all' && bus) {
        const { runEdgePurgeConsumer } = await import('@aex/edge');
        const purger = await runEdgePurgeConsumer(bus, edge, child(log, role, 'edge'));
        stops.push(() => purger.stop());
      }
      stops.push(listen(child(log, role, 'edge'), 'edge', configs.edge.PORT, edge.fetch));
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { stop: stopAll };
}

/** The logger of one service: in the all-in-one process a child naming it, alone the root. */
function child(log: Logger, role: Role, service: string): Logger {
  return role === 'all' ? log.child({ service }) : log;
}

/** Serves a fetch handler; returns how to stop it (stops accepting, lets requests finish). */
function listen(
  log: Logger,
  name: string,
  port: number,
  fetch: (r: Request) => Response | Promise<Response>,
): () => Promise<void> {
  const server = Bun.serve({
    port,
    hostname: process.env.AEX_HOST ?? '0.0.0.0',
    fetch,
    // No cap of Bun's own: it would answer an oversize upload with a bare 413 before AEX
    // could. Core refuses a declared oversize body before reading it, stops a streamed one
    // at AEX_MAX_UPLOAD_BYTES, and caps every other route's body (problem+json each time).
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 120,
  });
  log.info({ url: `http://localhost:${server.port}` }, `${name} listening`);
  return async () => {
    await server.stop();
  };
}
