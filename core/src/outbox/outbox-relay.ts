import type { AexEvent } from '@aex/shared';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import type { Logger } from '@aex/shared/ports/log';
import type { OutboxRepository } from '../db/outbox-repository.ts';

export interface OutboxRelayOptions {
  /** How often to look for events when nobody nudges. Default 1 s. */
  intervalMs?: number;
  /** Events per transaction. Default 100. */
  batchSize?: number;
  /** Longest wait between retries while the bus is unreachable. Default 30 s. */
  maxBackoffMs?: number;
  /**
   * Least time between two drains. Under a bulk import every commit nudges the relay; a
   * short gap lets one transaction publish several events instead of one each. Default 50 ms.
   */
  minGapMs?: number;
  /**
   * The drain leaves younger events to the fast path (`publishCommitted`) and handles only
   * those it did not (a crash, a bus outage). Default 5 s.
   */
  fastPathGraceMs?: number;
}

/**
 * Publishes the outbox: events committed with their changes are sent to the bus, with the
 * event id as message id so a crash between publish and delete only causes a duplicate the
 * bus drops. Woken right after a commit (`nudge`) and by a timer for anything missed.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly maxBackoffMs: number;
  private readonly minGapMs: number;
  private readonly fastPathGraceMs: number;
  private readonly encoder = new TextEncoder();
  private published: string[] = [];
  /** A nudge asked for everything; timer drains leave young events to the fast path. */
  private nudged = true;
  private forgetting: Promise<void> | undefined;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly bus: EventBus,
    private readonly log: Logger,
    options: OutboxRelayOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.minGapMs = options.minGapMs ?? 50;
    this.fastPathGraceMs = options.fastPathGraceMs ?? 5000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Asks the relay to publish the whole outbox now. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /**
   * The fast path: events just committed are published from memory at once, and their outbox
   * rows deleted in batches afterwards, so the common case costs no outbox read. If this
   * process dies first, or the bus refuses, the rows stay and the drain publishes them later
   * (a duplicate is dropped by the bus's msg-id de-duplication).
   */
  publishCommitted(events: readonly AexEvent[]): void {
    void (async () => {
      for (const event of events) {
        try {
          await this.bus.publish(event.type, this.encoder.encode(JSON.stringify(event)), {
            msgId: event.id,
          });
          this.published.push(event.id);
        } catch (err) {
          this.log.warn(
            { err: (err as Error).message, eventId: event.id },
            'event left for the outbox drain',
          );
          return;
        }
      }
      this.forgetting ??= this.forgetPublished();
    })();
  }

  /** Deletes the fast path's published rows, many per statement under load. */
  private async forgetPublished(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.minGapMs));
    const ids = this.published;
    this.published = [];
    try {
      await this.outbox.deleteIds(ids);
    } catch (err) {
      // Harmless: the drain publishes them again later and the bus drops the duplicates.
      this.log.warn(
        { err: (err as Error).message, count: ids.length },
        'could not forget published events',
      );
    } finally {
      this.forgetting = undefined;
      if (this.published.length > 0) this.forgetting = this.forgetPublished();
    }
  }

  /** Stops after the batch in progress. */
  async stop(): Promise<void> {
    this.running = false;
    this.nudge();
    await this.loop;
    await this.forgetting;
  }

  /**
   * Publishes what is in the outbox now; returns how many events went out. The timer's drains
   * skip events younger than the fast path's grace; `all` takes every one (tests, start-up).
   */
  async drainOnce(
    options: { all?: boolean } = { all: true },
  ): Promise<{ published: number; failed: boolean }> {
    const olderThanMs = options.all ? 0 : this.fastPathGraceMs;
    return this.outbox.drain(
      this.batchSize,
      async (rows) => {
        const published: string[] = [];
        for (const row of rows) {
          try {
            const payload = this.encoder.encode(JSON.stringify(row.payload));
            await this.bus.publish(row.subject, payload, { msgId: row.id });
            published.push(row.id);
          } catch (err) {
            return { published, failed: { id: row.id, error: (err as Error).message } };
          }
        }
        return { published };
      },
      { olderThanMs },
    );
  }

  private async run(): Promise<void> {
    let failures = 0;
    let lastDrain = 0;
    while (this.running) {
      let delay = this.intervalMs;
      const gap = lastDrain + this.minGapMs - performance.now();
      if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
      lastDrain = performance.now();
      try {
        const all = this.nudged;
        this.nudged = false;
        const { published, failed } = await this.drainOnce({ all });
        if (failed) throw new Error('the event bus refused an event');
        if (failures > 0) this.log.info({ afterFailures: failures }, 'outbox relay recovered');
        failures = 0;
        if (published === this.batchSize) delay = 0;
      } catch (err) {
        failures += 1;
        delay = Math.min(this.maxBackoffMs, 250 * 2 ** Math.min(failures, 10));
        if (failures === 1 || failures % 10 === 0) {
          this.log.warn(
            { err: (err as Error).message, failures, retryInMs: delay },
            'outbox relay cannot publish; retrying',
          );
        }
      }
      if (delay > 0 && this.running) await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
