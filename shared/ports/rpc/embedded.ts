import type { Logger } from '../log.ts';
import { assertRequestSubject } from './request-subjects.ts';
import {
  type Rpc,
  RpcRemoteError,
  type RpcResponder,
  RpcTimeoutError,
  RpcUnavailableError,
} from './rpc.ts';

export interface EmbeddedRpcOptions {
  log?: Logger;
}

type Handler = (payload: Uint8Array) => Promise<Uint8Array>;

interface Listener {
  readonly queue: string | undefined;
  readonly handler: Handler;
  readonly inFlight: Set<Promise<unknown>>;
}

/**
 * Request/reply inside one process, for the all-in-one `aex serve all`: core and the worker
 * share this instance. It keeps NATS's semantics: every plain responder and one responder
 * per queue group (round-robin) gets a request, the first answer wins, nobody listening
 * fails at once. Requests never leave the process, so `aex serve core` and `aex serve
 * worker` started apart need NATS (`NATS_URL`).
 */
export function createEmbeddedRpc(options: EmbeddedRpcOptions = {}): Rpc {
  return new EmbeddedRpc(options.log);
}

class EmbeddedRpc implements Rpc {
  readonly kind = 'embedded' as const;
  private readonly routes = new Map<string, Listener[]>();
  private readonly turns = new Map<string, number>();
  private readonly stops = new Set<() => Promise<void>>();
  private closed = false;

  constructor(private readonly log: Logger | undefined) {}

  async request(
    subject: string,
    payload: Uint8Array,
    options: { timeoutMs: number },
  ): Promise<Uint8Array> {
    assertRequestSubject(subject);
    if (this.closed) throw new RpcUnavailableError(`${subject}: the request port is closed`);
    const targets = this.pick(subject);
    if (targets.length === 0) throw new RpcUnavailableError(`${subject}: no responder listens`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RpcTimeoutError(`${subject}: no reply within ${options.timeoutMs} ms`)),
        Math.max(1, options.timeoutMs),
      );
    });
    try {
      // Each responder gets its own copy, as it would off the wire.
      return await Promise.race([
        ...targets.map((l) => this.answer(subject, l, payload.slice())),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async respond(
    subject: string,
    handler: Handler,
    options: { queue?: string } = {},
  ): Promise<RpcResponder> {
    assertRequestSubject(subject);
    if (this.closed) throw new RpcUnavailableError(`${subject}: the request port is closed`);
    const listener: Listener = { queue: options.queue, handler, inFlight: new Set() };
    this.routes.set(subject, [...(this.routes.get(subject) ?? []), listener]);
    const stop = async () => {
      this.stops.delete(stop);
      const rest = (this.routes.get(subject) ?? []).filter((l) => l !== listener);
      if (rest.length > 0) this.routes.set(subject, rest);
      else this.routes.delete(subject);
      while (listener.inFlight.size > 0) await Promise.allSettled([...listener.inFlight]);
    };
    this.stops.add(stop);
    return { stop };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.stops].map((stop) => stop()));
  }

  /** Every plain listener, and the next one of each queue group in turn. */
  private pick(subject: string): Listener[] {
    const listeners = this.routes.get(subject) ?? [];
    const groups = new Map<string, Listener[]>();
    const out: Listener[] = [];
    for (const l of listeners) {
      if (l.queue === undefined) out.push(l);
      else groups.set(l.queue, [...(groups.get(l.queue) ?? []), l]);
    }
    for (const [queue, members] of groups) {
      const key = `${subject}\u0000${queue}`;
      const turn = this.turns.get(key) ?? 0;
      this.turns.set(key, turn + 1);
      out.push(members[turn % members.length] as Listener);
    }
    return out;
  }

  private answer(subject: string, listener: Listener, payload: Uint8Array): Promise<Uint8Array> {
    const job = (async () => {
      try {
        return await listener.handler(payload);
      } catch (err) {
        this.log?.warn({ subject, err }, 'request failed in its responder');
        throw new RpcRemoteError(`${subject}: ${err instanceof Error ? err.message : err}`);
      }
    })();
    const tracked = job.catch(() => undefined);
    listener.inFlight.add(tracked);
    void tracked.finally(() => listener.inFlight.delete(tracked));
    return job;
  }
}
