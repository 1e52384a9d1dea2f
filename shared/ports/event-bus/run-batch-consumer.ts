import type { AexEvent } from '../../src/events.ts';
import type { Logger } from '../log.ts';
import type { Consumer, Delivery, EventBus } from './event-bus.ts';
import {
  type AdmittedJob,
  type JobConsumerOptions,
  type JobOutcome,
  openJobConsumer,
  type RunningConsumer,
  thrownOutcome,
} from './run-consumer.ts';

export interface RunBatchConsumerOptions extends JobConsumerOptions {
  /** Most events per batch (B). */
  maxBatch: number;
  /**
   * Longest wait to fill a batch once its first event is in hand (T, ms). 0 runs whatever
   * one fetch returned.
   */
  maxWaitMs: number;
  /** Batches in flight at once. Default 1. */
  concurrency?: number;
  /** How long a fetch blocks when nothing is waiting. Default 5 s (bounds how long `stop()` may wait). */
  fetchWaitMs?: number;
  /**
   * How often a running batch reports progress (`working()` on each delivery), so it may
   * outlast the ack wait. Default a third of `ackWaitMs` (30 s when unset).
   */
  workingEveryMs?: number;
}

/** What a batch handler learns about its batch besides the events. */
export interface BatchContext {
  /** Index-aligned with the events: each one's logical subject and delivery count (1 first). */
  readonly jobs: ReadonlyArray<{ subject: string; deliveryCount: number }>;
  /** Restarts every delivery's ack wait; the runner already does it periodically. */
  working(): Promise<void>;
  log: Logger;
}

/** Handles a batch: one outcome per event, index-aligned. A throw retries the whole batch. */
export type BatchHandler = (events: AexEvent[], ctx: BatchContext) => Promise<JobOutcome[]>;

/**
 * Runs `handle` over batches of a durable consumer's events (dynamic batching): it takes up
 * to `maxBatch` deliveries, waiting at most `maxWaitMs` after the first one to fill the batch.
 * With nothing waiting it blocks on the fetch as usual, so an idle queue costs no latency
 * beyond the first arrival and a busy one fills batches at once.
 *
 * Each outcome is settled by the same mapping as `runConsumer` (`openJobConsumer`): success
 * and skipped ack, retry naks with backoff, failed dead-letters; poison payloads and exhausted
 * messages are dead-lettered without reaching the handler. While a batch runs, every delivery
 * gets `working()` each `workingEveryMs`: JetStream's `+WPI` restarts its ack wait, so a slow
 * batch is not redelivered to another worker while this one still works on it. `stop()` stops
 * fetching, lets batches in flight finish and settle, then resolves.
 */
export async function runBatchConsumer(
  bus: EventBus,
  options: RunBatchConsumerOptions,
  handle: BatchHandler,
): Promise<RunningConsumer> {
  const { durable, maxBatch, maxWaitMs } = options;
  const concurrency = options.concurrency ?? 1;
  const fetchWaitMs = options.fetchWaitMs ?? 5_000;
  const workingEveryMs = options.workingEveryMs ?? Math.ceil((options.ackWaitMs ?? 30_000) / 3);
  for (const [name, value] of Object.entries({ maxBatch, concurrency })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`runBatchConsumer(${durable}): ${name} must be a positive integer`);
    }
  }
  if (!(maxWaitMs >= 0) || !(workingEveryMs > 0)) {
    throw new RangeError(`runBatchConsumer(${durable}): maxWaitMs ≥ 0 and workingEveryMs > 0`);
  }
  const { consumer, settler, log } = await openJobConsumer(bus, options, 'runBatchConsumer');

  const inFlight = new Set<Promise<void>>();
  let stopping = false;

  const dispatch = (deliveries: Delivery[], waitedMs: number): void => {
    const job: Promise<void> = runBatch(deliveries, waitedMs)
      .catch((err) => {
        // Admission failed (a dead letter not stored …): the ack wait brings them back.
        log.error({ err, size: deliveries.length }, 'batch not settled');
      })
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
  };

  const runBatch = async (deliveries: Delivery[], waitedMs: number): Promise<void> => {
    const started = Date.now();
    // The heartbeat starts before admission (dead-lettering poison can take a while too), then
    // covers only the admitted jobs: a terminated message has no ack wait left to extend.
    let held = deliveries;
    const heartbeat = setInterval(() => {
      for (const d of held) {
        d.working().catch((err) => log.warn({ err, subject: d.subject }, 'working() failed'));
      }
    }, workingEveryMs);
    try {
      const admitted = await Promise.all(deliveries.map((d) => settler.admit(d)));
      const jobs = admitted.filter((j): j is AdmittedJob => j !== undefined);
      held = jobs.map((j) => j.delivery);
      if (jobs.length === 0) return;
      const outcomes = await handleBatch(jobs);
      clearInterval(heartbeat);
      const settles = await Promise.allSettled(
        jobs.map((j, i) => settler.settle(j, outcomes[i] as JobOutcome)),
      );
      for (const [i, r] of settles.entries()) {
        // An ack or nak that failed: the ack wait brings that message back.
        if (r.status === 'rejected') {
          log.error({ err: r.reason, subject: jobs[i]?.delivery.subject }, 'job not settled');
        }
      }
      log.debug(
        {
          size: jobs.length,
          waitedMs,
          ms: Date.now() - started,
          redelivered: jobs.filter((j) => j.delivery.deliveryCount > 1).length,
          outcomes: countOutcomes(outcomes),
        },
        'batch settled',
      );
    } finally {
      clearInterval(heartbeat);
    }
  };

  const handleBatch = async (jobs: AdmittedJob[]): Promise<JobOutcome[]> => {
    const ctx: BatchContext = {
      jobs: jobs.map((j) => ({
        subject: j.delivery.subject,
        deliveryCount: j.delivery.deliveryCount,
      })),
      working: async () => {
        await Promise.all(jobs.map((j) => j.delivery.working()));
      },
      log,
    };
    log.debug({ size: jobs.length, eventIds: jobs.map((j) => j.event.id) }, 'batch started');
    try {
      const outcomes = await handle(
        jobs.map((j) => j.event),
        ctx,
      );
      if (outcomes.length === jobs.length) return outcomes;
      // A handler bug; retrying lets a fixed worker finish the jobs, the limit dead-letters them.
      return jobs.map(() =>
        thrownOutcome(
          new Error(`batch handler returned ${outcomes.length} outcomes for ${jobs.length} events`),
        ),
      );
    } catch (err) {
      return jobs.map(() => thrownOutcome(err));
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopping) {
      // Fetch only for a free slot: a fetched message's ack wait is already running.
      while (inFlight.size >= concurrency && !stopping) await Promise.race(inFlight);
      if (stopping) break;
      try {
        const filled = await fillBatch(consumer, maxBatch, maxWaitMs, fetchWaitMs, () => stopping);
        if (filled.deliveries.length > 0) dispatch(filled.deliveries, filled.waitedMs);
      } catch (err) {
        if (stopping) break;
        log.error({ err }, 'fetch failed; retrying in 1 s');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  const running = loop();

  return {
    durable,
    async stop() {
      stopping = true;
      await consumer.close();
      await running;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/**
 * One batch: the first fetch blocks up to `idleWaitMs` for any message; once one is in hand,
 * more fetches top it up until it holds `max` or `maxWaitMs` have passed since the first.
 * Deliveries fetched before an error are kept, never dropped unsettled (they would sit out
 * their whole ack wait).
 */
async function fillBatch(
  consumer: Consumer,
  max: number,
  maxWaitMs: number,
  idleWaitMs: number,
  stopping: () => boolean,
): Promise<{ deliveries: Delivery[]; waitedMs: number }> {
  const deliveries = await consumer.fetch(max, idleWaitMs);
  const first = Date.now();
  const deadline = first + maxWaitMs;
  while (deliveries.length > 0 && deliveries.length < max && !stopping()) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      deliveries.push(...(await consumer.fetch(max - deliveries.length, left)));
    } catch {
      // The next loop's fetch reports the error; run what is in hand now.
      break;
    }
  }
  return { deliveries, waitedMs: Date.now() - first };
}

function countOutcomes(outcomes: JobOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  return counts;
}
