import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { DeadLetter, type ImageDeleted, makeEvent } from '../../src/events.ts';
import { newId } from '../../src/ids.ts';
import { deadLetterSubject, Subjects } from '../../src/subjects.ts';
import { capturingLogger } from '../../testing/capturing-logger.ts';
import { eventually } from '../../testing/eventually.ts';
import { deleteTestStream } from '../../testing/nats-streams.ts';
import { natsReachable, randomToken, suiteName, TEST_NATS_URL } from '../../testing/servers.ts';
import { createEmbeddedEventBus } from './embedded.ts';
import type { EventBus } from './event-bus.ts';
import { createNatsEventBus } from './nats.ts';
import {
  type BatchHandler,
  type RunBatchConsumerOptions,
  runBatchConsumer,
} from './run-batch-consumer.ts';
import { type JobOutcome, publishEvent, type RunningConsumer } from './run-consumer.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const deleted = () =>
  makeEvent<ImageDeleted>({
    type: Subjects.imageDeleted,
    imageId: newId(),
    sha256: 'a'.repeat(64),
  });

const success: JobOutcome = { status: 'success' };

function runBatchConsumerSuite(name: string, makeBus: () => Promise<EventBus>): void {
  describe(name, () => {
    const buses: EventBus[] = [];
    const runners: RunningConsumer[] = [];
    const log = capturingLogger();
    afterEach(async () => {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
      await Promise.all(buses.splice(0).map((b) => b.close()));
    });

    async function newBus(): Promise<EventBus> {
      const bus = await makeBus();
      buses.push(bus);
      return bus;
    }

    /** A runner with test-sized timings, and a way to wait until its consumer is drained. */
    async function start(
      bus: EventBus,
      options: Partial<RunBatchConsumerOptions>,
      handle: BatchHandler,
    ) {
      const opts: RunBatchConsumerOptions = {
        durable: 'batcher',
        subjects: ['aex.image.>'],
        ackWaitMs: 1_000,
        fetchWaitMs: 300,
        maxBatch: 4,
        maxWaitMs: 50,
        backoffMs: () => 50,
        log,
        ...options,
      };
      const runner = await runBatchConsumer(bus, opts, handle);
      runners.push(runner);
      const probe = await bus.consumer({
        durable: opts.durable,
        subjects: opts.subjects,
        maxDeliver: (opts.maxDeliver ?? 5) + 1,
        ackWaitMs: opts.ackWaitMs,
      });
      const drained = () => eventually(async () => (await probe.pending()) === 0);
      return { runner, drained };
    }

    async function deadLetters(bus: EventBus, durable: string, count: number) {
      const c = await bus.consumer({
        durable: 'dlq-reader',
        subjects: [deadLetterSubject(durable)],
      });
      const letters: DeadLetter[] = [];
      const deadline = Date.now() + 4_000;
      while (letters.length < count && Date.now() < deadline) {
        for (const d of await c.fetch(count, 200)) {
          letters.push(DeadLetter.parse(JSON.parse(new TextDecoder().decode(d.data))));
          await d.ack();
        }
      }
      expect(await c.fetch(1, 100)).toEqual([]);
      return letters;
    }

    test('waiting events are taken in batches of at most maxBatch, each handled once', async () => {
      const bus = await newBus();
      const events = Array.from({ length: 10 }, deleted);
      for (const e of events) await publishEvent(bus, e);
      const sizes: number[] = [];
      const seen: string[] = [];
      const { drained } = await start(bus, {}, async (batch) => {
        sizes.push(batch.length);
        seen.push(...batch.map((e) => e.id));
        return batch.map(() => success);
      });
      await drained();
      expect(sizes.every((s) => s <= 4)).toBe(true);
      expect(sizes.slice(0, 2)).toEqual([4, 4]);
      expect(seen.sort()).toEqual(events.map((e) => e.id).sort());
    });

    test('a batch waits up to maxWaitMs for more, and an idle queue costs no more than that', async () => {
      const bus = await newBus();
      const batches: Array<{ size: number; at: number }> = [];
      await start(bus, { maxWaitMs: 400, fetchWaitMs: 5_000 }, async (batch) => {
        batches.push({ size: batch.length, at: Date.now() });
        return batch.map(() => success);
      });
      await sleep(150); // the runner now blocks on an empty queue
      const t0 = Date.now();
      await publishEvent(bus, deleted());
      await sleep(100);
      await publishEvent(bus, deleted());
      await publishEvent(bus, deleted());
      await eventually(() => batches.length > 0);
      expect(batches[0]?.size).toBe(3); // filled within the window
      const latency = (batches[0]?.at ?? 0) - t0;
      expect(latency).toBeGreaterThanOrEqual(380); // waited for a fuller batch…
      expect(latency).toBeLessThan(1_500); // …but not for the 5 s idle fetch
    });

    test('a full batch runs at once, without waiting maxWaitMs', async () => {
      const bus = await newBus();
      for (let i = 0; i < 4; i++) await publishEvent(bus, deleted());
      let at = 0;
      const t0 = Date.now();
      await start(bus, { maxWaitMs: 3_000 }, async (batch) => {
        at ||= Date.now();
        return batch.map(() => success);
      });
      await eventually(() => at > 0);
      expect(at - t0).toBeLessThan(1_500);
    });

    test('each outcome of a batch is settled on its own; poison never reaches the handler', async () => {
      const bus = await newBus();
      const [ok, skip, again, bad] = [deleted(), deleted(), deleted(), deleted()];
      for (const e of [ok, skip, again, bad]) await publishEvent(bus, e);
      await bus.publish(Subjects.imageDeleted, new TextEncoder().encode('{"not":"an event"}'), {
        msgId: 'poison',
      });
      const calls: Array<{ id: string; count: number }> = [];
      const { drained } = await start(
        bus,
        { durable: 'mixed', maxBatch: 8, maxWaitMs: 100 },
        async (batch, ctx) =>
          batch.map((e, i): JobOutcome => {
            const count = ctx.jobs[i]?.deliveryCount ?? 0;
            calls.push({ id: e.id, count });
            if (e.id === skip.id) return { status: 'skipped', reason: 'nothing to do' };
            if (e.id === again.id && count === 1) return { status: 'retry', reason: 'busy' };
            if (e.id === bad.id) return { status: 'failed', reason: 'cannot decode' };
            return success;
          }),
      );
      const letters = await deadLetters(bus, 'mixed', 2);
      expect(letters.map((l) => l.error).sort()).toEqual([
        'cannot decode',
        expect.stringContaining('invalid payload'),
      ]);
      await drained();
      const countOf = (id: string) => calls.filter((c) => c.id === id).map((c) => c.count);
      expect(countOf(ok.id)).toEqual([1]);
      expect(countOf(skip.id)).toEqual([1]);
      expect(countOf(again.id)).toEqual([1, 2]);
      expect(countOf(bad.id)).toEqual([1]);
      expect(calls).toHaveLength(5); // the poison payload was never handed over
    });

    test('a thrown error retries the whole batch, then dead-letters with the last error', async () => {
      const bus = await newBus();
      for (let i = 0; i < 3; i++) await publishEvent(bus, deleted());
      const sizes: number[] = [];
      const { drained } = await start(
        bus,
        { durable: 'broken', maxDeliver: 2, maxWaitMs: 100 },
        async (batch, ctx) => {
          sizes.push(batch.length);
          throw new Error(`model crashed on delivery ${ctx.jobs[0]?.deliveryCount}`);
        },
      );
      const letters = await deadLetters(bus, 'broken', 3);
      expect(letters.every((l) => l.error === 'Error: model crashed on delivery 2')).toBe(true);
      expect(letters.every((l) => l.deliveries === 2)).toBe(true);
      await drained();
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(6);
    });

    test('outcomes that do not match the batch are a bug, and the batch is retried', async () => {
      const bus = await newBus();
      await publishEvent(bus, deleted());
      let calls = 0;
      const { drained } = await start(bus, { durable: 'miscount' }, async (batch) => {
        calls++;
        return calls === 1 ? [] : batch.map(() => success);
      });
      await drained();
      expect(calls).toBe(2);
      const warn = log.lines.find((l) => l.level === 'warn' && l.fields.consumer === 'miscount');
      expect(String(warn?.fields.reason)).toContain('returned 0 outcomes for 1 events');
    });

    test('a batch that outlasts the ack wait keeps its messages (working)', async () => {
      const bus = await newBus();
      for (let i = 0; i < 3; i++) await publishEvent(bus, deleted());
      const handled: string[] = [];
      const slow: BatchHandler = async (batch) => {
        await sleep(1_000);
        handled.push(...batch.map((e) => e.id));
        return batch.map(() => success);
      };
      const opts = { durable: 'slow', ackWaitMs: 300, maxWaitMs: 100 };
      const { drained } = await start(bus, opts, slow);
      await sleep(100);
      await start(bus, opts, slow); // a second worker would get anything redelivered
      await drained();
      expect(handled).toHaveLength(3);
      expect(new Set(handled).size).toBe(3);
    });

    test('concurrency bounds the batches in flight', async () => {
      const bus = await newBus();
      for (let i = 0; i < 12; i++) await publishEvent(bus, deleted());
      let active = 0;
      let peak = 0;
      let done = 0;
      await start(bus, { maxBatch: 2, maxWaitMs: 0, concurrency: 3 }, async (batch) => {
        peak = Math.max(peak, ++active);
        await sleep(80);
        active--;
        done += batch.length;
        return batch.map(() => success);
      });
      await eventually(() => done === 12);
      expect(peak).toBe(3);
    });

    test('stop() lets the batch in flight finish and ack, and fetches no more', async () => {
      const bus = await newBus();
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let handled = 0;
      const { runner, drained } = await start(bus, { fetchWaitMs: 5_000 }, async (batch) => {
        handled += batch.length;
        await gate;
        return batch.map(() => success);
      });
      await publishEvent(bus, deleted());
      await publishEvent(bus, deleted());
      await eventually(() => handled === 2);
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
      expect(handled).toBe(2);
    });

    test('bad options throw when the runner is made', async () => {
      const bus = await newBus();
      const handle: BatchHandler = async () => [];
      const base = { durable: 'x', subjects: ['aex.image.>'], log, maxWaitMs: 0 };
      await expect(runBatchConsumer(bus, { ...base, maxBatch: 0 }, handle)).rejects.toThrow(
        /maxBatch must be a positive integer/,
      );
      await expect(
        runBatchConsumer(bus, { ...base, maxBatch: 2, maxWaitMs: -1 }, handle),
      ).rejects.toThrow(/maxWaitMs/);
    });
  });
}

runBatchConsumerSuite('runBatchConsumer on the embedded bus', async () =>
  createEmbeddedEventBus({ path: ':memory:' }),
);

const streams: string[] = [];
afterAll(async () => {
  await Promise.all(streams.map((s) => deleteTestStream(TEST_NATS_URL, s)));
});

describe.skipIf(!natsReachable)(
  suiteName('runBatchConsumer on NATS JetStream', natsReachable, TEST_NATS_URL),
  () => {
    runBatchConsumerSuite('batches', async () => {
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
