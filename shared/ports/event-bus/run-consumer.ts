import { AexEvent, type DeadLetter } from '../../src/events.ts';
import { deadLetterSubject } from '../../src/subjects.ts';
import type { Logger } from '../log.ts';
import type { Consumer, ConsumerOptions, Delivery, EventBus } from './event-bus.ts';

/** What a job handler returns; thrown errors count as transient (`retry` with backoff). */
export type JobOutcome =
  | { status: 'success' }
  /** Nothing to do (already done, not applicable): acked like a success. */
  | { status: 'skipped'; reason: string }
  /** Try again later: nak with `delayMs` (default: the backoff for this delivery). */
  | { status: 'retry'; reason: string; delayMs?: number }
  /** Will never succeed: dead-lettered and terminated. */
  | { status: 'failed'; reason: string };

export interface JobContext {
  /** Logical subject of the event. */
  subject: string;
  /** 1 on the first attempt. */
  deliveryCount: number;
  /** Restarts the ack wait: call it during work that may outlast `ackWaitMs`. */
  working(): Promise<void>;
  log: Logger;
}

export interface RunConsumerOptions extends ConsumerOptions {
  log: Logger;
  /** Jobs run at once. Default 1. */
  concurrency?: number;
  /** Most deliveries taken per fetch. Default `concurrency`. */
  fetchBatch?: number;
  /** How long one fetch waits for work. Default 5 s (bounds how long `stop()` may wait). */
  fetchWaitMs?: number;
  /** Delay before a retry. Default 1 s, 2 s, 4 s … capped at 60 s. */
  backoffMs?: (deliveryCount: number) => number;
}

export interface RunningConsumer {
  readonly durable: string;
  /** Stops fetching, lets jobs in flight finish and settle, then resolves. */
  stop(): Promise<void>;
}

type Handler = (event: AexEvent, ctx: JobContext) => Promise<JobOutcome>;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Exponential backoff: 1 s, 2 s, 4 s … capped at 60 s. */
export function defaultBackoffMs(deliveryCount: number): number {
  return Math.min(60_000, 1_000 * 2 ** Math.max(0, deliveryCount - 1));
}

/** An event as the bytes published on the bus. */
export function encodeEvent(event: AexEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/** Parses and validates a payload received on `subject`; an error says why it is poison. */
export function decodeEvent(
  subject: string,
  data: Uint8Array,
): { ok: true; event: AexEvent } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (err) {
    return { ok: false, error: `invalid payload: not JSON (${(err as Error).message})` };
  }
  const parsed = AexEvent.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, error: `invalid payload: ${issues.join('; ')}` };
  }
  if (parsed.data.type !== subject) {
    return { ok: false, error: `invalid payload: type ${parsed.data.type} on subject ${subject}` };
  }
  return { ok: true, event: parsed.data };
}

/**
 * Publishes a validated event on its own subject (`event.type`) with `msgId = event.id`, so
 * the bus drops a republished duplicate (an outbox relay retrying after a crash).
 */
export async function publishEvent(bus: EventBus, event: AexEvent): Promise<void> {
  const valid = AexEvent.parse(event);
  await bus.publish(valid.type, encodeEvent(valid), { msgId: valid.id });
}

/**
 * Runs `handle` for every event of a durable consumer: success and skipped ack; retry and
 * thrown errors nak with a delay; failed, poison payloads and a message's last allowed attempt
 * go to `aex.dlq.<durable>` and are terminated (the mapping is `openJobConsumer`'s, shared
 * with `runBatchConsumer`).
 */
export async function runConsumer(
  bus: EventBus,
  options: RunConsumerOptions,
  handle: Handler,
): Promise<RunningConsumer> {
  const concurrency = options.concurrency ?? 1;
  const fetchBatch = Math.min(options.fetchBatch ?? concurrency, concurrency);
  const fetchWaitMs = options.fetchWaitMs ?? 5_000;
  const { durable } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`runConsumer(${durable}): concurrency must be a positive integer`);
  }
  const { consumer, settler, log } = await openJobConsumer(bus, options, 'runConsumer');

  const inFlight = new Set<Promise<void>>();
  let stopping = false;

  const processDelivery = async (d: Delivery): Promise<void> => {
    const job = await settler.admit(d);
    if (!job) return;
    const ctx: JobContext = {
      subject: d.subject,
      deliveryCount: d.deliveryCount,
      working: () => d.working(),
      log: log.child({ subject: d.subject, eventId: job.event.id }),
    };
    let outcome: JobOutcome;
    try {
      outcome = await handle(job.event, ctx);
    } catch (err) {
      outcome = thrownOutcome(err);
    }
    await settler.settle(job, outcome);
  };

  const settle = (d: Delivery): void => {
    const job: Promise<void> = processDelivery(d)
      .catch((err) => {
        // The ack or nak itself failed: the ack wait brings the message back.
        log.error({ subject: d.subject, deliveryCount: d.deliveryCount, err }, 'job not settled');
      })
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
  };

  const loop = async (): Promise<void> => {
    while (!stopping) {
      // Fetch only for free slots: a fetched message's ack wait is already running.
      while (inFlight.size >= concurrency && !stopping) await Promise.race(inFlight);
      if (stopping) break;
      try {
        const batch = await consumer.fetch(
          Math.min(fetchBatch, concurrency - inFlight.size),
          fetchWaitMs,
        );
        for (const d of batch) settle(d);
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

/** A delivery whose payload is a valid event, ready for a handler. */
export interface AdmittedJob {
  readonly delivery: Delivery;
  readonly event: AexEvent;
  /** Names the message in its dead letter's msgId: the msgId, else the event id. */
  readonly identity: string;
}

/** Turns deliveries into jobs and settles them by outcome; see `openJobConsumer`. */
export interface OutcomeSettler {
  /**
   * The job in a delivery, or `undefined` when the delivery was dead-lettered here instead:
   * a poison payload, or a message past its last allowed attempt (the handler never sees it).
   */
  admit(d: Delivery): Promise<AdmittedJob | undefined>;
  /** Acks, naks with delay, or dead-letters and terminates the job's delivery. */
  settle(job: AdmittedJob, outcome: JobOutcome): Promise<void>;
}

/** What both runners take: the consumer, its limits and how to back off. */
export type JobConsumerOptions = ConsumerOptions & Pick<RunConsumerOptions, 'log' | 'backoffMs'>;

/** A thrown handler error as an outcome: transient, retried with backoff. */
export function thrownOutcome(err: unknown): JobOutcome {
  return { status: 'retry', reason: errorText(err) };
}

/**
 * Binds the durable consumer and returns the one mapping of job outcomes onto ack / nak /
 * term (CONVENTIONS rule 7), used by `runConsumer` and `runBatchConsumer`. Success and
 * skipped ack; retry naks with a delay until `maxDeliver`, then dead-letters; failed is
 * dead-lettered at once. A dead letter goes to `aex.dlq.<durable>` before the term.
 *
 * The server-side consumer allows `maxDeliver + 1` deliveries: when a worker dies during the
 * last attempt, the extra delivery arrives here and is dead-lettered instead of vanishing
 * (JetStream drops a message that reached max_deliver without telling anyone).
 */
export async function openJobConsumer(
  bus: EventBus,
  options: JobConsumerOptions,
  runner = 'openJobConsumer',
): Promise<{ consumer: Consumer; settler: OutcomeSettler; log: Logger }> {
  const maxDeliver = options.maxDeliver ?? 5;
  const backoffMs = options.backoffMs ?? defaultBackoffMs;
  const { durable } = options;
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) {
    throw new RangeError(`${runner}(${durable}): maxDeliver must be a positive integer`);
  }
  const log = options.log.child({ consumer: durable });
  const consumer = await bus.consumer({
    durable,
    subjects: options.subjects,
    maxDeliver: maxDeliver + 1,
    ackWaitMs: options.ackWaitMs,
  });

  const deadLetter = async (d: Delivery, error: string, identity: string): Promise<void> => {
    const letter: DeadLetter = {
      consumer: durable,
      subject: d.subject,
      payload: decoder.decode(d.data),
      deliveries: d.deliveryCount,
      error,
      failedAt: new Date().toISOString(),
    };
    log.error(
      { subject: d.subject, deliveryCount: d.deliveryCount, reason: error },
      'job dead-lettered',
    );
    try {
      await bus.publish(deadLetterSubject(durable), encoder.encode(JSON.stringify(letter)), {
        msgId: `${durable}:${identity}`,
      });
    } catch (err) {
      // Never terminate a message whose dead letter was not stored: nak it, and the extra
      // delivery (maxDeliver + 1) tries the dead letter again.
      log.error({ subject: d.subject, err }, 'dead letter not stored; message kept');
      await d.nak(backoffMs(d.deliveryCount));
      return;
    }
    await d.term(error);
  };

  const retry = async (d: Delivery, reason: string, delayMs: number | undefined, id: string) => {
    if (d.deliveryCount >= maxDeliver) return deadLetter(d, reason, id);
    const delay = delayMs ?? backoffMs(d.deliveryCount);
    log.warn(
      { subject: d.subject, deliveryCount: d.deliveryCount, reason, retryInMs: delay },
      'job will be retried',
    );
    await d.nak(delay);
  };

  const settler: OutcomeSettler = {
    async admit(d) {
      const decoded = decodeEvent(d.subject, d.data);
      const identity = d.msgId ?? (decoded.ok ? decoded.event.id : await sha256Hex(d.data));
      if (d.deliveryCount > maxDeliver) {
        await deadLetter(d, 'exhausted: the worker stopped during its last attempts', identity);
        return undefined;
      }
      if (!decoded.ok) {
        await deadLetter(d, decoded.error, identity);
        return undefined;
      }
      return { delivery: d, event: decoded.event, identity };
    },
    async settle({ delivery: d, identity }, outcome) {
      switch (outcome.status) {
        case 'success':
        case 'skipped':
          return d.ack();
        case 'retry':
          return retry(d, outcome.reason, outcome.delayMs, identity);
        case 'failed':
          return deadLetter(d, outcome.reason, identity);
      }
    },
  };
  return { consumer, settler, log };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
