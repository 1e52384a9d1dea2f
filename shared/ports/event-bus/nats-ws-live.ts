import { type NatsConnection, type Subscription, wsconnect } from '@nats-io/nats-core';
import type { Logger } from '../log.ts';
import { wireSubjects } from './wire-subjects.ts';

/**
 * Live events over NATS's WebSocket listener, for processes that may have no TCP route to the
 * cluster (edges close to users). These are plain core-NATS subscriptions, not JetStream
 * consumers: edges are many and come and go, and a durable consumer per edge would pile up
 * on the server. JetStream stores a published event *and* the server delivers it to every
 * core subscriber of its subject, so a subscriber sees each event published while it is
 * connected, at most once. What it misses while disconnected it does not get later:
 * `onReconnect` lets the caller make up for that.
 *
 * Only `@nats-io/nats-core` and the runtime's WebSocket: it runs on Bun, Deno and Node 22+.
 */
export interface LiveEventsOptions {
  /** `ws://` or `wss://` URL(s) of the NATS WebSocket listener (`websocket { … }` block). */
  servers: string | string[];
  /** Logical subjects (`aex.image.deleted`); a trailing `.>` matches any tokens. */
  subjects: string[];
  /** Wire prefix replacing the logical `aex.`, as the publishers use (`NATS_SUBJECT_PREFIX`). */
  subjectPrefix?: string;
  /** Server auth token, when the listener asks for one. */
  token?: string;
  /** Connection name shown by the server. */
  name?: string;
  log: Logger;
  /** Called once per message, with the logical subject. A throw is logged, never fatal. */
  onMessage(subject: string, data: Uint8Array): void | Promise<void>;
  /** Called after the connection came back from a disconnect (messages may have been missed). */
  onReconnect?(): void | Promise<void>;
  /** Wait before the first retry; doubles up to `maxBackoffMs`. Default 250 ms. */
  minBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
}

export interface LiveEvents {
  /** Whether the connection is up now. */
  connected(): boolean;
  /** Resolves once connected the first time (for tests and readiness). */
  ready(): Promise<void>;
  /** Unsubscribes, waits for messages being handled, and closes; stops retrying. */
  close(): Promise<void>;
}

/**
 * Subscribes to `subjects` and keeps at it: a server that is down at start or goes away is
 * retried forever, with exponential backoff and jitter, and every change of connection state
 * is logged. Returns at once; the first connection is made in the background.
 */
export function subscribeLiveEvents(options: LiveEventsOptions): LiveEvents {
  const wire = wireSubjects(options.subjectPrefix);
  const filters = options.subjects.map((s) => wire.toWire(s));
  const where = [options.servers].flat().join(', ');
  const log = options.log.child({ nats: where });
  const minMs = options.minBackoffMs ?? 250;
  const maxMs = options.maxBackoffMs ?? 30_000;
  const backoff = exponentialBackoff(minMs, maxMs);
  const outage = outageBackoff(minMs, maxMs);
  const handling = new Set<Promise<void>>();
  let nc: NatsConnection | undefined;
  let up = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  let readyResolve: () => void = () => {};
  const readyPromise = new Promise<void>((done) => {
    readyResolve = done;
  });

  const deliver = (subject: string, data: Uint8Array) => {
    const task = (async () => {
      try {
        await options.onMessage(wire.fromWire(subject), data);
      } catch (err) {
        log.error({ err: (err as Error).message, subject }, 'live event handler failed');
      }
    })();
    handling.add(task);
    void task.finally(() => handling.delete(task));
  };

  const sleep = (ms: number) =>
    new Promise<void>((done) => {
      const timer = setTimeout(done, ms);
      wake = () => {
        clearTimeout(timer);
        done();
      };
    });

  // nats.js reports a `disconnect` per failed dial and may repeat `reconnect`: only changes
  // of state are logged and acted on.
  const watch = async (conn: NatsConnection) => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect' && up) {
        up = false;
        outage.begin();
        log.warn({ event: 'disconnect' }, 'NATS WebSocket disconnected; reconnecting');
      } else if (s.type === 'reconnect' && !up) {
        up = true;
        outage.end();
        log.info({ event: 'reconnect' }, 'NATS WebSocket reconnected');
        try {
          await options.onReconnect?.();
        } catch (err) {
          log.error({ err: (err as Error).message }, 'reconnect handler failed');
        }
      } else if (s.type === 'error') {
        log.warn({ event: 'error', err: s.error.message }, 'NATS WebSocket error');
      } else if (s.type === 'staleConnection') {
        log.warn({ event: 'stale' }, 'NATS WebSocket stale; reconnecting');
      }
    }
  };

  const run = async () => {
    let everConnected = false;
    while (!stopped) {
      try {
        nc = await wsconnect({
          servers: options.servers,
          name: options.name,
          token: options.token,
          // The client reconnects by itself after a drop; this loop only covers the first
          // connection and a connection the client gave up on (closed).
          maxReconnectAttempts: -1,
          reconnectDelayHandler: () => outage.delay(),
          timeout: 10_000,
        });
      } catch (err) {
        const waitMs = backoff.next();
        log.warn(
          { event: 'connect-failed', err: (err as Error).message, retryInMs: waitMs },
          'NATS WebSocket not reachable; retrying',
        );
        await sleep(waitMs);
        continue;
      }
      if (stopped) {
        await nc.close().catch(() => undefined);
        break;
      }
      const subs: Subscription[] = filters.map((filter) =>
        (nc as NatsConnection).subscribe(filter, {
          callback: (err, msg) => {
            if (err) log.warn({ err: err.message, filter }, 'subscription error');
            else deliver(msg.subject, msg.data);
          },
        }),
      );
      // The server has the subscriptions once a flush round-trips: from then on nothing
      // published is missed.
      await nc.flush().catch(() => undefined);
      up = true;
      backoff.reset();
      log.info({ event: 'connect', subjects: filters }, 'NATS WebSocket connected; subscribed');
      if (everConnected) {
        await Promise.resolve(options.onReconnect?.()).catch((err: Error) =>
          log.error({ err: err.message }, 'reconnect handler failed'),
        );
      }
      everConnected = true;
      readyResolve();
      void watch(nc).catch(() => undefined);
      const closedWith = await nc.closed();
      up = false;
      for (const sub of subs) sub.unsubscribe();
      if (stopped) break;
      const waitMs = backoff.next();
      log.warn(
        { event: 'closed', err: closedWith?.message, retryInMs: waitMs },
        'NATS WebSocket connection closed; connecting again',
      );
      await sleep(waitMs);
    }
  };
  const running = run();

  return {
    connected: () => up,
    ready: () => readyPromise,
    async close() {
      stopped = true;
      wake?.();
      await nc?.close().catch(() => undefined);
      await running;
      await Promise.allSettled([...handling]);
    },
  };
}

/**
 * The wait between the client's own reconnect attempts: half the time the outage has lasted,
 * from `minMs` up to `maxMs` — so attempts come at roughly doubling intervals. nats.js asks
 * for the wait on every turn of its dial loop, dialling or not, so the answer must depend on
 * the time, not on how often it was asked. One jitter factor per outage spreads edges apart.
 */
function outageBackoff(minMs: number, maxMs: number) {
  let since: number | undefined;
  let jitter = 1;
  return {
    begin() {
      if (since !== undefined) return;
      since = Date.now();
      jitter = 0.75 + Math.random() * 0.5;
    },
    end() {
      since = undefined;
    },
    delay(): number {
      const lasted = since === undefined ? 0 : Date.now() - since;
      return Math.round(Math.min(maxMs, Math.max(minMs, lasted / 2)) * jitter);
    },
  };
}

/** Doubling waits from `minMs` to `maxMs`, each with ±25 % jitter so edges do not stampede. */
function exponentialBackoff(minMs: number, maxMs: number): { next(): number; reset(): void } {
  let attempt = 0;
  return {
    next() {
      const base = Math.min(maxMs, minMs * 2 ** attempt);
      attempt = Math.min(attempt + 1, 30);
      return Math.round(base * (0.75 + Math.random() * 0.5));
    },
    reset() {
      attempt = 0;
    },
  };
}
