import { afterEach, describe, expect, test } from 'bun:test';
import { type Consumer, type Delivery, type EventBus, EventBusError } from './event-bus.ts';

export interface ContractOptions {
  /** A new bus on the same storage as `bus` (a new connection, or the same file reopened). */
  reopen(bus: EventBus): Promise<EventBus>;
  /** Whether one consumer may filter several subjects (nats-server 2.10+). Default true. */
  multipleFilters?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (s: string) => encoder.encode(s);
const text = (d: Delivery) => decoder.decode(d.data);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fetches until `count` deliveries arrived or `timeoutMs` passed. */
async function fetchAtLeast(c: Consumer, count: number, timeoutMs = 3_000): Promise<Delivery[]> {
  const out: Delivery[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    out.push(...(await c.fetch(count - out.length, Math.max(1, deadline - Date.now()))));
  }
  return out;
}

/**
 * The event bus contract: JetStream's semantics, run on every adapter (DESIGN.md, "Ports").
 * `makeBus` gives a bus on fresh, isolated storage; buses are closed after each test.
 */
export function eventBusContract(
  name: string,
  makeBus: () => Promise<EventBus>,
  options: ContractOptions,
): void {
  describe(name, () => {
    const open: EventBus[] = [];
    const bus = async (): Promise<EventBus> => {
      const b = await makeBus();
      open.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
    });

    test('publish → fetch → ack: delivered once with its subject, payload and msgId', async () => {
      const b = await bus();
      const c = await b.consumer({ durable: 'basic', subjects: ['aex.image.>'] });
      await b.publish('aex.image.ingested', bytes('one'), { msgId: 'm-1' });
      const [d, ...rest] = await fetchAtLeast(c, 1);
      expect(rest).toHaveLength(0);
      expect(d?.subject).toBe('aex.image.ingested');
      expect(d && text(d)).toBe('one');
      expect(d?.deliveryCount).toBe(1);
      expect(d?.msgId).toBe('m-1');
      expect(await c.pending()).toBe(1);
      await d?.ack();
      expect(await c.pending()).toBe(0);
      expect(await c.fetch(10, 100)).toEqual([]);
    });

    test('a second publish with the same msgId is stored once', async () => {
      const b = await bus();
      await b.publish('aex.image.deleted', bytes('first'), { msgId: 'dup' });
      await b.publish('aex.image.deleted', bytes('second'), { msgId: 'dup' });
      await b.publish('aex.image.deleted', bytes('third'), { msgId: 'other' });
      const c = await b.consumer({ durable: 'dedup', subjects: ['aex.image.deleted'] });
      const got = await fetchAtLeast(c, 3, 500);
      expect(got.map(text)).toEqual(['first', 'third']);
    });

    test('nak with a delay redelivers after the delay, not before; nak() at once', async () => {
      const b = await bus();
      const c = await b.consumer({ durable: 'nak', subjects: ['aex.image.>'], ackWaitMs: 10_000 });
      await b.publish('aex.image.ingested', bytes('x'), { msgId: 'nak-1' });
      const [first] = await fetchAtLeast(c, 1);
      const t0 = Date.now();
      await first?.nak(500);
      expect(await c.fetch(1, 250)).toEqual([]);
      const [second] = await fetchAtLeast(c, 1, 3_000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(480);
      expect(second?.deliveryCount).toBe(2);
      const t1 = Date.now();
      await second?.nak();
      const [third] = await fetchAtLeast(c, 1, 3_000);
      expect(third?.deliveryCount).toBe(3);
      expect(Date.now() - t1).toBeLessThan(1_000);
    });

    test('term never redelivers', async () => {
      const b = await bus();
      const c = await b.consumer({ durable: 'term', subjects: ['aex.image.>'], ackWaitMs: 200 });
      await b.publish('aex.image.ingested', bytes('x'), { msgId: 'term-1' });
      const [d] = await fetchAtLeast(c, 1);
      await d?.term('bad input');
      expect(await c.fetch(1, 600)).toEqual([]);
      expect(await c.pending()).toBe(0);
    });

    test('no ack within the ack wait → redelivered; working() extends the wait', async () => {
      const b = await bus();
      const c = await b.consumer({ durable: 'wait', subjects: ['aex.image.>'], ackWaitMs: 400 });
      await b.publish('aex.image.ingested', bytes('x'), { msgId: 'wait-1' });
      const [d] = await fetchAtLeast(c, 1);
      const t0 = Date.now();
      await sleep(250);
      await d?.working();
      expect(await c.fetch(1, 250)).toEqual([]); // 500 ms after delivery, 250 after working()
      const [again] = await fetchAtLeast(c, 1, 3_000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
      expect(again?.deliveryCount).toBe(2);
    });

    test('after maxDeliver deliveries the message is not redelivered', async () => {
      const b = await bus();
      const c = await b.consumer({
        durable: 'max',
        subjects: ['aex.image.>'],
        maxDeliver: 2,
        ackWaitMs: 200,
      });
      await b.publish('aex.image.ingested', bytes('x'), { msgId: 'max-1' });
      expect((await fetchAtLeast(c, 1))[0]?.deliveryCount).toBe(1);
      expect((await fetchAtLeast(c, 1))[0]?.deliveryCount).toBe(2);
      expect(await c.fetch(1, 700)).toEqual([]);
      expect(await c.pending()).toBe(0);
    });

    test('binding to a durable with other limits updates them', async () => {
      const b = await bus();
      const opts = { durable: 'limits', subjects: ['aex.image.>'], ackWaitMs: 200 };
      const c = await b.consumer({ ...opts, maxDeliver: 1 });
      await b.publish('aex.image.ingested', bytes('x'), { msgId: 'limits-1' });
      expect((await fetchAtLeast(c, 1))[0]?.deliveryCount).toBe(1);
      const rebound = await b.consumer({ ...opts, maxDeliver: 2 });
      expect((await fetchAtLeast(rebound, 1))[0]?.deliveryCount).toBe(2);
    });

    test('two consumers on one durable share the work: never the same message at once', async () => {
      const b = await bus();
      const total = 24;
      for (let i = 0; i < total; i++) {
        await b.publish('aex.image.ingested', bytes(`m${i}`), { msgId: `share-${i}` });
      }
      const opts = { durable: 'shared', subjects: ['aex.image.ingested'], ackWaitMs: 10_000 };
      const consumers = [await b.consumer(opts), await b.consumer(opts)];
      const inFlight = new Set<string>();
      const overlaps: string[] = [];
      const acked: string[] = [];
      const perConsumer = [0, 0];
      const work = async (c: Consumer, index: number) => {
        const deadline = Date.now() + 5_000;
        while (acked.length < total && Date.now() < deadline) {
          for (const d of await c.fetch(3, 200)) {
            if (inFlight.has(text(d))) overlaps.push(text(d));
            inFlight.add(text(d));
            await sleep(5);
            inFlight.delete(text(d));
            await d.ack();
            acked.push(text(d));
            perConsumer[index] = (perConsumer[index] ?? 0) + 1;
          }
        }
      };
      await Promise.all(consumers.map(work));
      expect(overlaps).toEqual([]);
      expect([...acked].sort()).toEqual(Array.from({ length: total }, (_, i) => `m${i}`).sort());
      expect(perConsumer.every((n) => n > 0)).toBe(true);
    });

    test('a new durable receives messages stored before it existed, in order', async () => {
      const b = await bus();
      for (const n of ['a', 'b', 'c']) {
        await b.publish('aex.image.ingested', bytes(n), { msgId: `early-${n}` });
      }
      const c = await b.consumer({ durable: 'late', subjects: ['aex.image.ingested'] });
      expect((await fetchAtLeast(c, 3)).map(text)).toEqual(['a', 'b', 'c']);
    });

    test('filter subjects are honoured, `.>` included', async () => {
      const b = await bus();
      const all = await b.consumer({ durable: 'images', subjects: ['aex.image.>'] });
      const deleted = await b.consumer({ durable: 'deleted', subjects: ['aex.image.deleted'] });
      const dlq = await b.consumer({ durable: 'dlq', subjects: ['aex.dlq.>'] });
      const published = ['aex.image.ingested', 'aex.image.deleted', 'aex.image.tags.computed'];
      for (const s of [...published, 'aex.dlq.worker']) await b.publish(s, bytes(s), { msgId: s });
      const subjectsOf = async (c: Consumer, n: number) =>
        (await fetchAtLeast(c, n + 1, 400)).map((d) => d.subject);
      expect(await subjectsOf(all, 3)).toEqual(published);
      expect(await subjectsOf(deleted, 1)).toEqual(['aex.image.deleted']);
      expect(await subjectsOf(dlq, 1)).toEqual(['aex.dlq.worker']);
    });

    test.skipIf(options.multipleFilters === false)(
      'a consumer may filter several subjects',
      async () => {
        const b = await bus();
        const c = await b.consumer({
          durable: 'two',
          subjects: ['aex.image.ingested', 'aex.image.tags.computed'],
        });
        for (const s of ['aex.image.ingested', 'aex.image.deleted', 'aex.image.tags.computed']) {
          await b.publish(s, bytes(s), { msgId: s });
        }
        expect((await fetchAtLeast(c, 3, 600)).map((d) => d.subject)).toEqual([
          'aex.image.ingested',
          'aex.image.tags.computed',
        ]);
      },
    );

    test('pending() counts waiting plus in-flight messages', async () => {
      const b = await bus();
      const c = await b.consumer({ durable: 'pending', subjects: ['aex.image.>'] });
      expect(await c.pending()).toBe(0);
      for (const n of ['a', 'b', 'c', 'd']) {
        await b.publish('aex.image.ingested', bytes(n), { msgId: `p-${n}` });
      }
      expect(await c.pending()).toBe(4);
      const [a, bb, cc] = await fetchAtLeast(c, 3);
      expect(await c.pending()).toBe(4);
      await a?.ack();
      await bb?.nak(60_000);
      await cc?.term();
      expect(await c.pending()).toBe(2);
    });

    test('fetch waits for a message and returns as soon as one is published', async () => {
      const b = await bus();
      const c = await b.consumer({ durable: 'waiter', subjects: ['aex.image.>'] });
      const t0 = Date.now();
      expect(await c.fetch(5, 300)).toEqual([]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      const t1 = Date.now();
      const waiting = c.fetch(5, 10_000);
      await sleep(150);
      await b.publish('aex.image.ingested', bytes('late'), { msgId: 'late-1' });
      const got = await waiting;
      expect(got.map(text)).toEqual(['late']);
      expect(Date.now() - t1).toBeLessThan(1_500);
    });

    test('after close(), a new bus redelivers unacked messages and not acked ones', async () => {
      const b = await bus();
      const opts = { durable: 'restart', subjects: ['aex.image.>'], ackWaitMs: 300 };
      const c = await b.consumer(opts);
      await b.publish('aex.image.ingested', bytes('acked'), { msgId: 'r-1' });
      await b.publish('aex.image.ingested', bytes('unacked'), { msgId: 'r-2' });
      const [first] = await fetchAtLeast(c, 2);
      await first?.ack();
      await b.close();
      const b2 = await options.reopen(b);
      open.push(b2);
      const c2 = await b2.consumer(opts);
      // One fetch takes everything that is due once the ack wait ran out; the acked message
      // must not be among it, and pending() must not count it.
      const [again, ...more] = await c2.fetch(2, 3_000);
      expect(more).toEqual([]);
      expect(again && text(again)).toBe('unacked');
      expect(again?.deliveryCount).toBe(2);
      await again?.ack();
      expect(await c2.pending()).toBe(0);
    });

    test('refuses subjects the stream does not store, bad names and changed filters', async () => {
      const b = await bus();
      const publish = b.publish('aex.infer.text-embed', bytes('x'), { msgId: 'x' });
      await expect(publish).rejects.toBeInstanceOf(EventBusError);
      await expect(b.consumer({ durable: 'bad name', subjects: ['aex.image.>'] })).rejects.toThrow(
        EventBusError,
      );
      await b.consumer({ durable: 'fixed', subjects: ['aex.image.ingested'] });
      await expect(
        b.consumer({ durable: 'fixed', subjects: ['aex.image.deleted'] }),
      ).rejects.toThrow(/exists with subjects/);
    });
  });
}
