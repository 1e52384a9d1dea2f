import type { JetStreamManager } from '@nats-io/jetstream';
import {
  createInbox,
  type Msg,
  type NatsConnection,
  nanos,
  type Subscription,
} from '@nats-io/transport-node';
import { type Consumer, type Delivery, EventBusError } from './event-bus.ts';
import type { WireSubjects } from './wire-subjects.ts';

/** How long an ack, nak, term or progress report waits for the server's confirmation. */
const CONFIRM_TIMEOUT_MS = 5_000;
/** Slack after a pull's expiry before we stop waiting for a status that got lost (reconnect). */
const PULL_SLACK_MS = 2_000;

interface PullRequest {
  batch: number;
  no_wait?: boolean;
  expires?: number;
}

/** What a NATS consumer needs from its bus. */
export interface NatsConsumerContext {
  nc: NatsConnection;
  jsm: JetStreamManager;
  stream: string;
  subjects: WireSubjects;
  /** nats-server before 2.10.4 ignores a `+TERM` that carries a reason, and redelivers. */
  termWithReason: boolean;
}

/**
 * A durable pull consumer. Pull requests are sent on the core connection rather than with
 * nats.js `consumer.fetch()`, which can neither ask for `no_wait` nor expire in under 1 s:
 * its pulls stay open on the server until the whole batch is filled or the request expires,
 * and stopping one early leaves the server delivering into a dropped inbox, where the message
 * then waits out the full ack wait. Here every pull ends on the server when `fetch` returns.
 */
export class NatsConsumer implements Consumer {
  private closed = false;
  private readonly pulls = new Set<Subscription>();

  constructor(
    readonly durable: string,
    private readonly ctx: NatsConsumerContext,
  ) {}

  async fetch(max: number, waitMs: number): Promise<Delivery[]> {
    if (!Number.isInteger(max) || max < 1) {
      throw new EventBusError(`fetch: max must be a positive integer (got ${max})`);
    }
    if (this.closed) return [];
    // `no_wait` without `expires`: the server hands over what is ready and ends the request
    // with 404 No Messages / 408 Request Timeout instead of waiting for the rest of the batch.
    const ready = await this.pull({ batch: max, no_wait: true }, 0);
    if (ready.length > 0 || waitMs <= 0 || this.closed) return ready;
    // A one-message pull is complete, on the server, the moment a message arrives: nothing
    // is left open that could deliver into an inbox nobody reads any more.
    const first = await this.pull({ batch: 1, expires: nanos(Math.ceil(waitMs)) }, waitMs);
    if (first.length === 0 || max === 1 || this.closed) return first;
    return first.concat(await this.pull({ batch: max - 1, no_wait: true }, 0));
  }

  async pending(): Promise<number> {
    try {
      const info = await this.ctx.jsm.consumers.info(this.ctx.stream, this.durable);
      // num_pending: not yet delivered; num_ack_pending: delivered and not acked, naked ones
      // waiting for their delay included. (nats-server 2.9 keeps a message that ran out of
      // deliveries in num_ack_pending until the next pull request.)
      return info.num_pending + info.num_ack_pending;
    } catch (err) {
      throw new EventBusError(`pending(${this.durable}) failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // drain(): unsubscribe and flush, so messages the server sent before it saw the
    // unsubscribe still reach the pull loop, which hands them back with a nak.
    await Promise.all([...this.pulls].map((sub) => sub.drain().catch(() => undefined)));
  }

  private async pull(request: PullRequest, waitMs: number): Promise<Delivery[]> {
    const { nc, stream } = this.ctx;
    const sub = nc.subscribe(createInbox());
    this.pulls.add(sub);
    const timer = setTimeout(() => sub.unsubscribe(), waitMs + PULL_SLACK_MS);
    const out: Delivery[] = [];
    try {
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${this.durable}`, JSON.stringify(request), {
        reply: sub.getSubject(),
      });
      for await (const m of sub) {
        if (!m.reply) {
          // A status ends the pull: 404 No Messages and 408 Request Timeout are the normal
          // ends; anything else (409 Consumer Deleted, Exceeded MaxWaiting …) is a refusal.
          const code = m.headers?.code ?? 0;
          if (code === 404 || code === 408) break;
          throw new EventBusError(
            `fetch(${this.durable}): the server answered ${code} ${m.headers?.description ?? ''}`,
          );
        }
        const delivery = natsDelivery(m, this.ctx);
        if (this.closed) {
          await delivery.nak().catch(() => undefined);
          continue;
        }
        out.push(delivery);
        if (out.length >= request.batch) break;
      }
    } catch (err) {
      if (err instanceof EventBusError) throw err;
      throw new EventBusError(`fetch(${this.durable}) failed: ${messageOf(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      this.pulls.delete(sub);
      if (!sub.isClosed() && !sub.isDraining()) sub.unsubscribe();
    }
    return out;
  }
}

/**
 * A delivery on a JetStream message. Every acknowledgement is sent as a request, which the
 * server answers once it has applied it (what nats.js `ackAck()` does for `+ACK`).
 */
function natsDelivery(m: Msg, ctx: NatsConsumerContext): Delivery {
  const reply = m.reply as string;
  const subject = ctx.subjects.fromWire(m.subject);
  const confirm = async (body: string): Promise<void> => {
    try {
      await ctx.nc.request(reply, body, { timeout: CONFIRM_TIMEOUT_MS });
    } catch (err) {
      const what = body.split(' ')[0];
      throw new EventBusError(`${what} of ${subject} was not confirmed: ${messageOf(err)}`, {
        cause: err,
      });
    }
  };
  return {
    subject,
    data: m.data,
    deliveryCount: deliveryCountOf(reply),
    msgId: m.headers?.get('Nats-Msg-Id') || undefined,
    ack: () => confirm('+ACK'),
    nak: (delayMs = 0) =>
      confirm(
        delayMs > 0 ? `-NAK ${JSON.stringify({ delay: nanos(Math.ceil(delayMs)) })}` : '-NAK',
      ),
    term: (reason) =>
      confirm(reason && ctx.termWithReason ? `+TERM ${reason.replace(/\s+/g, ' ')}` : '+TERM'),
    working: () => confirm('+WPI'),
  };
}

/**
 * The delivery count from the ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>…`,
 * or, on newer servers, `$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>…`.
 */
function deliveryCountOf(reply: string): number {
  const tokens = reply.split('.');
  const count = Number(tokens[tokens.length === 9 ? 4 : 6]);
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK' || !Number.isInteger(count)) {
    throw new EventBusError(`not a JetStream delivery: reply subject ${reply}`);
  }
  return count;
}

/** Whether the connected server is at least `version` (`major.minor.patch`). */
export function serverAtLeast(nc: NatsConnection, version: string): boolean {
  const have = (nc.info?.version ?? '0.0.0').split(/[.-]/).map(Number);
  const want = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const h = have[i] ?? 0;
    const w = want[i] ?? 0;
    if (h !== w) return h > w;
  }
  return true;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
