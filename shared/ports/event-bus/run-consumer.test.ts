import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { DeadLetter, type ImageDeleted, makeEvent } from '../../src/events.ts';
import { newId } from '../../src/ids.ts';
import { deadLetterSubject, Subjects } from '../../src/subjects.ts';
import { capturingLogger } from '../../testing/capturing-logger.ts';
import { eventually } from '../../testing/eventually.ts';
import { natsReachable, randomToken, suiteName, TEST_NATS_URL } from '../../testing/servers.ts';
import { createEmbeddedEventBus } from './embedded.ts';
import type { EventBus } from './event-bus.ts';
import { createNatsEventBus } from './nats.ts';
import {
  defaultBackoffMs,
  type JobOutcome,
  publishEvent,
  type RunConsumerOptions,
  type RunningConsumer,
  runConsumer,
} from './run-consumer.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const deleted = () =>
  makeEvent<ImageDeleted>({
    type: Subjects.imageDeleted,
    imageId: newId(),
    sha256: 'a'.repeat(64),
  });

function runConsumerSuite(name: string, makeBus: () => Promise<EventBus>): void {
  describe(name, () => {
    const buses: EventBus[] = [];
    const runners: RunningConsumer[] = [];
    let log = capturingLogger();
    afterEach(async () => {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
      await Promise.all(buses.splice(0).map((b) => b.close()));
      log = capturingLogger();
    });

    /** A fresh bus, and a runner on it with test-sized timings. */
    async function start(
      options: Partial<RunConsumerOptions>,
      handle: Parameters<typeof runConsumer>[2],
    ) {
      const bus = await makeBus();
      buses.push(bus);
      const opts: RunConsumerOptions = {
        durable: 'worker',
        subjects: ['aex.image.>'],
        ackWaitMs: 300,
        fetchWaitMs: 200,
        backoffMs: () => 50,
        log,
        ...options,
      };
      const runner = await runConsumer(bus, opts, handle);
      runners.push(runner);
      // The same durable, bound with the runner's server-side settings, to read pending().
      const probe = await bus.consumer({
        durable: opts.durable,
        subjects: opts.subjects,
        maxDeliver: (opts.maxDeliver ?? 5) + 1,
        ackWaitMs: opts.ackWaitMs,
      });
      const drained = () => eventually(async () => (await probe.pending()) === 0);
      return { bus, runner, drained };
    }

    async function deadLetters(bus: EventBus, durable: string, count: number) {
      const c = await bus.consumer({
        durable: 'dlq-reader',
        subjects: [deadLetterSubject(durable)],
      });
      const letters: DeadLetter[] = [];
      const deadline = Date.now() + 3_000;
      while (letters.length < count && Date.now() < deadline) {
        for (const d of await c.fetch(count, 200)) {
          letters.push(DeadLetter.parse(JSON.parse(new TextDecoder().decode(d.data))));
          await d.ack();
        }
      }
      expect(await c.fetch(1, 100)).toEqual([]); // and no more than that
      return letters;
    }

    test('success and skipped ack; a republished event is handled once', async () => {
      const [ok, skip] = [deleted(), deleted()];
      const seen: string[] = [];
      const { bus, drained } = await start({}, async (event): Promise<JobOutcome> => {
        seen.push(event.id);
        return event.id === ok.id ? { status: 'success' } : { status: 'skipped', reason: 'gone' };
      });
      for (const e of [ok, skip, ok]) await publishEvent(bus, e);
      await drained();
      await sleep(450); // past the ack wait: an unacked job would be back by now
      expect(seen.sort()).toEqual([ok.id, skip.id].sort());
    });

    test('retry naks with its delay and logs one line', async () => {
      const attempts: { count: number; at: number }[] = [];
      const { bus, drained } = await start({}, async (_event, ctx): Promise<JobOutcome> => {
        attempts.push({ count: ctx.deliveryCount, at: Date.now() });
        return ctx.deliveryCount === 1
          ? { status: 'retry', reason: 'model loading', delayMs: 150 }
          : { status: 'success' };
      });
      await publishEvent(bus, deleted());
      await drained();
      expect(attempts.map((a) => a.count)).toEqual([1, 2]);
      expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(140);
      const warn = log.lines.filter((l) => l.level === 'warn');
      expect(warn).toHaveLength(1);
      expect(warn[0]?.fields).toMatchObject({
        consumer: 'worker',
        subject: Subjects.imageDeleted,
        deliveryCount: 1,
        reason: 'model loading',
      });
    });

    test('failed is dead-lettered with its reason and never retried', async () => {
      const event = deleted();
      let calls = 0;
      const { bus, drained } = await start({ durable: 'strict' }, async () => {
        calls++;
        return { status: 'failed', reason: 'unsupported format' };
      });
      await publishEvent(bus, event);
      const [letter] = await deadLetters(bus, 'strict', 1);
      expect(letter).toMatchObject({
        consumer: 'strict',
        subject: Subjects.imageDeleted,
        deliveries: 1,
        error: 'unsupported format',
      });
      expect(JSON.parse(letter?.payload ?? '')).toEqual(event);
      await drained();
      await sleep(450);
      expect(calls).toBe(1);
      expect(log.lines.filter((l) => l.level === 'error')[0]?.fields).toMatchObject({
        consumer: 'strict',
        reason: 'unsupported format',
      });
    });

    test('a thrown error retries, then dead-letters with the last error', async () => {
      const counts: number[] = [];
      const { bus, drained } = await start({ durable: 'flaky', maxDeliver: 3 }, async (_e, ctx) => {
        counts.push(ctx.deliveryCount);
        throw new Error(`boom ${ctx.deliveryCount}`);
      });
      await publishEvent(bus, deleted());
      const [letter] = await deadLetters(bus, 'flaky', 1);
      expect(letter?.error).toBe('Error: boom 3');
      expect(letter?.deliveries).toBe(3);
      await drained();
      expect(counts).toEqual([1, 2, 3]);
    });

    test('a poison payload is dead-lettered at once, without calling the handler', async () => {
      let calls = 0;
      const { bus, drained } = await start({ durable: 'picky' }, async () => {
        calls++;
        return { status: 'success' };
      });
      const wrongType = new TextEncoder().encode(JSON.stringify(deleted()));
      await bus.publish(Subjects.imageIngested, new TextEncoder().encode('not json'), {
        msgId: 'poison-1',
      });
      await bus.publish(Subjects.imageIngested, wrongType, { msgId: 'poison-2' });
      const letters = await deadLetters(bus, 'picky', 2);
      expect(letters.map((l) => l.deliveries)).toEqual([1, 1]);
      expect(letters.every((l) => l.error.startsWith('invalid payload'))).toBe(true);
      expect(letters.map((l) => l.payload)).toContain('not json');
      await drained();
      expect(calls).toBe(0);
    });

    test('a message whose last attempts died with their worker is dead-lettered', async () => {
      let calls = 0;
      const bus = await makeBus();
      buses.push(bus);
      // Two workers fetched it (maxDeliver 2, so 3 on the server) and died without acking.
      const raw = await bus.consumer({
        durable: 'crashy',
        subjects: ['aex.image.>'],
        maxDeliver: 3,
        ackWaitMs: 200,
      });
      await publishEvent(bus, deleted());
      for (const expected of [1, 2]) {
        const [d] = await raw.fetch(1, 2_000);
        expect(d?.deliveryCount).toBe(expected);
      }
      const runner = await runConsumer(
        bus,
        {
          durable: 'crashy',
          subjects: ['aex.image.>'],
          maxDeliver: 2,
          ackWaitMs: 200,
          log,
        },
        async () => {
          calls++;
          return { status: 'success' };
        },
      );
      runners.push(runner);
      const [letter] = await deadLetters(bus, 'crashy', 1);
      expect(letter?.error).toBe('exhausted: the worker stopped during its last attempts');
      expect(letter?.deliveries).toBe(3);
      expect(calls).toBe(0);
    });

    test('stop() waits for the job in flight to finish and ack, and fetches no more', async () => {
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = 0;
      const { bus, runner, drained } = await start({ fetchWaitMs: 5_000 }, async () => {
        started++;
        await gate;
        return { status: 'success' };
      });
      await publishEvent(bus, deleted());
      await eventually(() => started === 1);
      let stopped = false;
      const stopping = runner.stop().then(() => {
        stopped = true;
      });
      await sleep(150);
      expect(stopped).toBe(false);
      release();
      const t0 = Date.now();
      await stopping;
      expect(Date.now() - t0).toBeLessThan(1_000); // not the 5 s fetch wait
      await drained();
      await publishEvent(bus, deleted());
      await sleep(300);
      expect(started).toBe(1);
    });

    test('concurrency bounds the jobs in flight', async () => {
      let active = 0;
      let peak = 0;
      let done = 0;
      const { bus } = await start({ concurrency: 3, ackWaitMs: 5_000 }, async () => {
        peak = Math.max(peak, ++active);
        await sleep(60);
        active--;
        done++;
        return { status: 'success' };
      });
      for (let i = 0; i < 9; i++) await publishEvent(bus, deleted());
      await eventually(() => done === 9);
      expect(peak).toBe(3);
    });
  });
}

test('default backoff doubles from 1 s and stops at 60 s', () => {
  expect([1, 2, 3, 4, 7, 8, 30].map(defaultBackoffMs)).toEqual([
    1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000,
  ]);
});

test('publishEvent refuses an event that does not match its schema', async () => {
  const bus = createEmbeddedEventBus({ path: ':memory:' });
  const bad = { ...deleted(), sha256: 'not-a-digest' };
  await expect(publishEvent(bus, bad)).rejects.toThrow(/sha256/);
  await bus.close();
});

runConsumerSuite('runConsumer on the embedded bus', async () =>
  createEmbeddedEventBus({ path: ':memory:' }),
);

const streams: string[] = [];
afterAll(async () => {
  if (streams.length === 0) return;
  const nc = await connect({ servers: TEST_NATS_URL });
  const jsm = await jetstreamManager(nc);
  await Promise.all(streams.map((s) => jsm.streams.delete(s).catch(() => false)));
  await nc.close();
});

describe.skipIf(!natsReachable)(
  suiteName('runConsumer on NATS JetStream', natsReachable, TEST_NATS_URL),
  () => {
    runConsumerSuite('outcomes', async () => {
      const stream = `AEXTEST_${randomToken(8).toUpperCase()}`;
      streams.push(stream);
      return createNatsEventBus({
        servers: TEST_NATS_URL,
        stream,
        subjectPrefix: `t${randomToken(8)}`,
      });
    });
  },
);
