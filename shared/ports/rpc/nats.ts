import {
  connect,
  headers,
  type Msg,
  type NatsConnection,
  RequestError,
  type Subscription,
  TimeoutError,
} from '@nats-io/transport-node';
import type { Logger } from '../log.ts';
import { requestWireSubject } from './request-subjects.ts';
import {
  type Rpc,
  RpcRemoteError,
  type RpcResponder,
  RpcTimeoutError,
  RpcUnavailableError,
} from './rpc.ts';

export interface NatsRpcOptions {
  /** `nats://host:port`, or several for a cluster. */
  servers: string | string[];
  /** Wire prefix replacing the logical `aex.`, as the event bus's. Default `aex`. */
  subjectPrefix?: string;
  /** Connection name shown by the server. */
  name?: string;
  log?: Logger;
}

/** Header of a reply that carries a responder's failure instead of an answer. */
const ERROR_HEADER = 'Aex-Rpc-Error';

/**
 * Request/reply on NATS core (no JetStream: a question is worth nothing after its deadline,
 * so it is never stored). Responders of one queue group share the requests, and the server
 * answers a request nobody listens to with a 503 status at once, which becomes
 * `RpcUnavailableError` instead of a wait for the timeout.
 * @throws RpcUnavailableError when the server cannot be reached.
 */
export async function createNatsRpc(options: NatsRpcOptions): Promise<Rpc> {
  const prefix = options.subjectPrefix ?? 'aex';
  requestWireSubject(prefix, 'aex.check'); // a bad prefix fails here, not on the first request
  const where = [options.servers].flat().join(', ');
  try {
    const nc = await connect({
      servers: options.servers,
      name: options.name,
      // Like the bus: outlive server restarts instead of giving up after 10 attempts.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
    });
    return new NatsRpc(nc, prefix, options.log);
  } catch (err) {
    throw new RpcUnavailableError(`NATS at ${where} is not reachable: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

class NatsRpc implements Rpc {
  readonly kind = 'nats' as const;
  private readonly responders = new Set<RpcResponder>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly log: Logger | undefined,
  ) {}

  async request(
    subject: string,
    payload: Uint8Array,
    options: { timeoutMs: number },
  ): Promise<Uint8Array> {
    const wire = requestWireSubject(this.prefix, subject);
    let reply: Msg;
    try {
      reply = await this.nc.request(wire, payload, { timeout: Math.max(1, options.timeoutMs) });
    } catch (err) {
      if (err instanceof TimeoutError) {
        throw new RpcTimeoutError(`${subject}: no reply within ${options.timeoutMs} ms`, {
          cause: err,
        });
      }
      const noResponders = err instanceof RequestError && err.isNoResponders();
      // A closed or reconnecting connection is as good as nobody listening: core answers 503.
      throw new RpcUnavailableError(
        noResponders ? `${subject}: no responder listens` : `${subject}: ${messageOf(err)}`,
        { cause: err },
      );
    }
    const failure = reply.headers?.get(ERROR_HEADER);
    if (failure) throw new RpcRemoteError(`${subject}: ${failure}`);
    return reply.data;
  }

  async respond(
    subject: string,
    handler: (payload: Uint8Array) => Promise<Uint8Array>,
    options: { queue?: string } = {},
  ): Promise<RpcResponder> {
    const wire = requestWireSubject(this.prefix, subject);
    const inFlight = new Set<Promise<void>>();
    const answer = async (m: Msg): Promise<void> => {
      if (!m.reply) return; // a plain publish asks nothing
      try {
        m.respond(await handler(m.data));
      } catch (err) {
        this.log?.warn({ subject, err }, 'request failed in its responder');
        const h = headers();
        h.set(ERROR_HEADER, messageOf(err).replace(/[\r\n]+/g, ' ') || 'failed');
        m.respond(new Uint8Array(0), { headers: h });
      }
    };
    const sub: Subscription = this.nc.subscribe(wire, {
      queue: options.queue,
      callback: (err, m) => {
        if (err) {
          this.log?.error({ subject, err }, 'responder subscription failed');
          return;
        }
        const job: Promise<void> = answer(m)
          .catch((e) => this.log?.error({ subject, err: e }, 'reply not sent'))
          .finally(() => inFlight.delete(job));
        inFlight.add(job);
      },
    });
    // The server must know the subscription before anyone is told it is answering.
    await this.nc.flush();
    const responder: RpcResponder = {
      stop: async () => {
        this.responders.delete(responder);
        // drain(): the server stops routing requests here, and those already sent to us are
        // still handed to the callback; then the answers in progress are awaited.
        if (!sub.isClosed()) await sub.drain().catch(() => undefined);
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      },
    };
    this.responders.add(responder);
    return responder;
  }

  async close(): Promise<void> {
    await Promise.all([...this.responders].map((r) => r.stop()));
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
