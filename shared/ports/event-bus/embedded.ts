import type { Logger } from '../log.ts';
import { type ClaimedRow, EmbeddedStore } from './embedded-store.ts';
import {
  type Consumer,
  type ConsumerOptions,
  type Delivery,
  type EventBus,
  EventBusError,
  resolveConsumerOptions,
} from './event-bus.ts';
import { type WireSubjects, wireSubjects } from './wire-subjects.ts';

export interface EmbeddedEventBusOptions {
  /** SQLite file, created if missing; `:memory:` for a bus that dies with the process. */
  path: string;
  /** Wire prefix replacing the logical `aex.`. Default `aex`. */
  subjectPrefix?: string;
  /**
   * A second publish with the same msgId within this window is dropped. Default: as long as
   * the first one is stored, which is longer than JetStream's 2-minute duplicate_window.
   */
  dedupWindowMs?: number;
  /** How often a waiting fetch looks for messages written by other processes. Default 250 ms. */
  pollMs?: number;
  /** Fully processed messages older than this are deleted. Default 7 days. */
  retentionMs?: number;
  log?: Logger;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The embedded durable event bus: JetStream's semantics on one SQLite file, for a laptop or a
 * single host (several processes may share the file). Unacknowledged messages survive a
 * restart and come back once their ack wait has run out.
 */
export function createEmbeddedEventBus(options: EmbeddedEventBusOptions): EventBus {
  return new EmbeddedEventBus(options);
}

class EmbeddedEventBus implements EventBus {
  readonly kind = 'embedded' as const;
  readonly store: EmbeddedStore;
  readonly pollMs: number;
  private readonly subjects: WireSubjects;
  private readonly wakers = new Set<() => void>();
  private readonly pruneTimer: ReturnType<typeof setInterval>;
  closed = false;

  constructor(private readonly options: EmbeddedEventBusOptions) {
    this.subjects = wireSubjects(options.subjectPrefix);
    this.pollMs = options.pollMs ?? 250;
    try {
      this.store = new EmbeddedStore(options.path);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new EventBusError(`cannot open the embedded bus at ${options.path}: ${message}`, {
        cause: err,
      });
    }
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 60 * 60 * 1000);
    this.pruneTimer.unref?.();
  }

  async publish(subject: string, payload: Uint8Array, options: { msgId: string }): Promise<void> {
    this.assertOpen();
    this.subjects.assertCaptured(subject);
    const window = this.options.dedupWindowMs;
    const since = window === undefined ? 0 : Date.now() - window;
    if (this.store.publish(this.subjects.toWire(subject), payload, options.msgId, since)) {
      this.wake();
    }
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    this.assertOpen();
    const { durable, subjects, maxDeliver, ackWaitMs } = resolveConsumerOptions(options);
    const filters = subjects.map((s) => this.subjects.toWire(s));
    this.store.ensureConsumer(durable, filters, maxDeliver, ackWaitMs);
    return new EmbeddedConsumer(durable, this, this.subjects);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pruneTimer);
    this.wake();
    this.store.close();
  }

  /** Resolves after `ms`, or sooner when a publish, nak or close may have made work. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakers.add(done);
    });
  }

  wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  assertOpen(): void {
    if (this.closed) throw new EventBusError('the embedded event bus is closed');
  }

  private prune(): void {
    if (this.closed) return;
    try {
      const removed = this.store.prune(Date.now() - (this.options.retentionMs ?? 7 * DAY_MS));
      if (removed > 0) this.options.log?.info({ removed }, 'pruned processed events');
    } catch (err) {
      // Another process may hold the write lock past busy_timeout; the next round will do it.
      this.options.log?.warn({ err }, 'pruning processed events failed');
    }
  }
}

class EmbeddedConsumer implements Consumer {
  private closed = false;

  constructor(
    readonly durable: string,
    private readonly bus: EmbeddedEventBus,
    private readonly subjects: WireSubjects,
  ) {}

  async fetch(max: number, waitMs: number): Promise<Delivery[]> {
    if (!Number.isInteger(max) || max < 1) {
      throw new EventBusError(`fetch: max must be a positive integer (got ${max})`);
    }
    this.bus.assertOpen();
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (this.closed || this.bus.closed) return [];
      const rows = this.bus.store.claim(this.durable, max);
      if (rows.length > 0) return rows.map((row) => this.delivery(row));
      const now = Date.now();
      if (now >= deadline) return [];
      // Sleep until the next delayed or expired message is due, the deadline, or the next
      // poll for other processes' writes, whichever is first; a publish here wakes us at once.
      const next = this.bus.store.nextAvailableAt(this.durable) ?? Number.POSITIVE_INFINITY;
      await this.bus.sleep(Math.min(deadline, next, now + this.bus.pollMs) - now);
    }
  }

  async pending(): Promise<number> {
    this.bus.assertOpen();
    return this.bus.store.pending(this.durable);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.bus.wake();
  }

  private delivery(row: ClaimedRow): Delivery {
    const { bus, durable } = this;
    const open = () => bus.assertOpen();
    return {
      subject: this.subjects.fromWire(row.subject),
      data: row.payload,
      deliveryCount: row.deliveryCount,
      msgId: row.msgId,
      async ack() {
        open();
        bus.store.finish(durable, row.seq);
      },
      async nak(delayMs = 0) {
        open();
        bus.store.release(durable, row.seq, row.lease, Math.max(0, delayMs));
        bus.wake();
      },
      async term() {
        open();
        bus.store.finish(durable, row.seq);
      },
      async working() {
        open();
        bus.store.extend(durable, row.seq, row.lease);
      },
    };
  }
}
