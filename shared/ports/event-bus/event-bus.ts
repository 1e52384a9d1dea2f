/**
 * The event bus port, with JetStream's semantics (DESIGN.md, "Ports"): durable pull
 * consumers, at-least-once delivery, ack / nak with delay / term, redelivery after the ack
 * wait, a maximum number of deliveries, and de-duplication by message id on publish.
 * Adapters: NATS JetStream and an embedded durable bus (bun:sqlite) that survives restarts.
 *
 * Subjects given to and returned by the port are logical (`aex.image.ingested`); an adapter
 * may map them onto a different wire prefix so tests can run side by side.
 */
export interface EventBus {
  readonly kind: 'embedded' | 'nats';
  /**
   * Stores a message durably before resolving. A second publish with the same `msgId`
   * (within the de-duplication window) is dropped, so retries are safe.
   */
  publish(subject: string, payload: Uint8Array, options: { msgId: string }): Promise<void>;
  /** Creates the durable consumer if it is missing (delivering every stored message), or binds to it. */
  consumer(options: ConsumerOptions): Promise<Consumer>;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  /** Durable name, `[A-Za-z0-9_-]+`. Consumers with the same name share the work. */
  durable: string;
  /** Logical subjects to receive; a trailing `.>` matches any number of tokens. */
  subjects: string[];
  /** Deliveries after which the server stops redelivering. Default 5. */
  maxDeliver?: number;
  /** Time a delivery may stay unacknowledged before it is redelivered. Default 30 s. */
  ackWaitMs?: number;
}

export interface Consumer {
  readonly durable: string;
  /** Up to `max` deliveries; waits at most `waitMs` when none is ready. */
  fetch(max: number, waitMs: number): Promise<Delivery[]>;
  /** Messages not yet acknowledged or terminated: waiting plus in flight. */
  pending(): Promise<number>;
  /** Stops fetching; deliveries in hand may still be acked. */
  close(): Promise<void>;
}

export interface Delivery {
  /** Logical subject. */
  readonly subject: string;
  readonly data: Uint8Array;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** The `msgId` it was published with, when the adapter knows it. */
  readonly msgId?: string;
  ack(): Promise<void>;
  /** Redeliver after `delayMs` (default: at once). */
  nak(delayMs?: number): Promise<void>;
  /** Never redeliver. */
  term(reason?: string): Promise<void>;
  /** Extends the ack wait: call during long work. */
  working(): Promise<void>;
}

/** Thrown when the bus cannot be reached or refuses an operation. */
export class EventBusError extends Error {
  override name = 'EventBusError';
}

const DURABLE = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws unless `name` is a valid durable consumer name. */
export function assertDurableName(name: string): void {
  if (!DURABLE.test(name)) {
    throw new EventBusError(
      `invalid consumer name ${JSON.stringify(name)}: use [A-Za-z0-9_-]{1,64}`,
    );
  }
}

/** Whether a logical subject matches a filter with NATS wildcards (`*` one token, `>` the rest). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** Consumer options with their defaults applied (maxDeliver 5, ack wait 30 s), validated. */
export function resolveConsumerOptions(options: ConsumerOptions): Required<ConsumerOptions> {
  const { durable, subjects, maxDeliver = 5, ackWaitMs = 30_000 } = options;
  assertDurableName(durable);
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) {
    throw new EventBusError(`consumer ${durable}: maxDeliver must be a positive integer`);
  }
  if (!(ackWaitMs >= 1)) throw new EventBusError(`consumer ${durable}: ackWaitMs must be ≥ 1`);
  if (subjects.length === 0) throw new EventBusError(`consumer ${durable}: give a subject`);
  return { durable, subjects, maxDeliver, ackWaitMs: Math.ceil(ackWaitMs) };
}
