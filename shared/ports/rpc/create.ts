import type { Logger } from '../log.ts';
import type { Rpc } from './rpc.ts';

export interface RpcConfig {
  /** Set: NATS core request/reply at this URL. Unset: in-process (one process only). */
  NATS_URL?: string;
}

/**
 * The request/reply port chosen by configuration: NATS when `NATS_URL` is set, else the
 * in-process adapter. The in-process one connects only the services of one process (`aex
 * serve all`); services started apart must share a NATS server to talk.
 */
export async function createRpc(
  config: RpcConfig,
  opts: { log: Logger; subjectPrefix?: string; name?: string },
): Promise<Rpc> {
  if (config.NATS_URL) {
    const { createNatsRpc } = await import('./nats.ts');
    const rpc = await createNatsRpc({
      servers: config.NATS_URL,
      subjectPrefix: opts.subjectPrefix,
      name: opts.name,
      log: opts.log,
    });
    opts.log.info({ nats: config.NATS_URL }, 'request/reply: NATS');
    return rpc;
  }
  const { createEmbeddedRpc } = await import('./embedded.ts');
  opts.log.info('request/reply: in-process (services of this process only)');
  return createEmbeddedRpc({ log: opts.log });
}
