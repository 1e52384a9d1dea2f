import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventBusContract } from './contract.ts';
import { createEmbeddedEventBus, type EmbeddedEventBusOptions } from './embedded.ts';
import type { Consumer, Delivery, EventBus } from './event-bus.ts';

const dir = mkdtempSync(join(tmpdir(), 'aex-bus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const newPath = () => join(dir, `bus-${++files}.sqlite`);
const pathOf = new WeakMap<EventBus, string>();
const opened: EventBus[] = [];
function open(path: string, options: Partial<EmbeddedEventBusOptions> = {}): EventBus {
  const bus = createEmbeddedEventBus({ path, ...options });
  pathOf.set(bus, path);
  opened.push(bus);
  return bus;
}

eventBusContract('embedded event bus (contract)', async () => open(newPath()), {
  async reopen(bus) {
    const path = pathOf.get(bus);
    if (!path) throw new Error('not a bus of this suite');
    return open(path);
  },
});

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (d: Delivery) => new TextDecoder().decode(d.data);

async function fetchAtLeast(c: Consumer, count: number, timeoutMs: number): Promise<Delivery[]> {
  const out: Delivery[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    out.push(...(await c.fetch(count - out.length, Math.max(1, deadline - Date.now()))));
  }
  return out;
}

describe('embedded event bus', () => {
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()));
  });

  test('state survives several reopenings; deliveryCount keeps counting', async () => {
    const path = newPath();
    const opts = { durable: 'survivor', subjects: ['aex.image.>'], ackWaitMs: 100 };
    let bus = open(path);
    await bus.publish('aex.image.ingested', bytes('keep'), { msgId: 'k' });
    await bus.publish('aex.image.ingested', bytes('done'), { msgId: 'd' });
    const first = await fetchAtLeast(await bus.consumer(opts), 2, 1_000);
    await first.find((d) => text(d) === 'done')?.ack();
    for (const expected of [2, 3]) {
      await bus.close();
      bus = open(path);
      // One fetch takes everything that is due: the acked message must not be among it.
      const [d, ...rest] = await (await bus.consumer(opts)).fetch(2, 1_000);
      expect(rest).toEqual([]);
      expect(d && text(d)).toBe('keep');
      expect(d?.deliveryCount).toBe(expected);
    }
  });

  test('a closed bus refuses work and its waiting fetch returns at once', async () => {
    const bus = open(newPath());
    const c = await bus.consumer({ durable: 'closing', subjects: ['aex.image.>'] });
    const t0 = Date.now();
    const waiting = c.fetch(1, 10_000);
    await bus.close();
    expect(await waiting).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await expect(bus.publish('aex.image.deleted', bytes('x'), { msgId: 'x' })).rejects.toThrow(
      /closed/,
    );
  });

  test('two buses on one file (two processes) see each other’s messages by polling', async () => {
    const path = newPath();
    const writer = open(path);
    const reader = open(path, { pollMs: 100 });
    const c = await reader.consumer({ durable: 'other', subjects: ['aex.image.>'] });
    const waiting = c.fetch(1, 5_000);
    const t0 = Date.now();
    await writer.publish('aex.image.deleted', bytes('from the writer'), { msgId: 'w-1' });
    const [d] = await waiting;
    expect(d && text(d)).toBe('from the writer');
    expect(Date.now() - t0).toBeLessThan(1_000);
    // The writer's own consumer object on the same durable shares the work.
    await d?.ack();
    expect(
      await (await writer.consumer({ durable: 'other', subjects: ['aex.image.>'] })).pending(),
    ).toBe(0);
  });

  test('two buses on one file never claim the same message', async () => {
    const path = newPath();
    const a = open(path);
    const b = open(path);
    for (let i = 0; i < 40; i++)
      await a.publish('aex.image.ingested', bytes(`m${i}`), { msgId: `${i}` });
    const opts = { durable: 'split', subjects: ['aex.image.>'], ackWaitMs: 60_000 };
    const [ca, cb] = [await a.consumer(opts), await b.consumer(opts)];
    const got = await Promise.all([ca, cb, ca, cb].map((c) => fetchAtLeast(c, 10, 1_000)));
    const all = got.flat().map(text);
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
  });

  test('a :memory: bus works for unit tests', async () => {
    const bus = open(':memory:');
    const c = await bus.consumer({ durable: 'mem', subjects: ['aex.image.>'] });
    await bus.publish('aex.image.ingested', bytes('x'), { msgId: 'x' });
    expect((await fetchAtLeast(c, 1, 500)).map(text)).toEqual(['x']);
  });

  test('pruning deletes old processed or exhausted messages and keeps waiting ones', async () => {
    const path = newPath();
    const bus = open(path);
    const opts = { durable: 'pruned', subjects: ['aex.image.>'], maxDeliver: 1, ackWaitMs: 1 };
    const c = await bus.consumer(opts);
    for (const n of ['processed', 'exhausted', 'waiting']) {
      await bus.publish('aex.image.ingested', bytes(n), { msgId: n });
    }
    await (await c.fetch(1, 500))[0]?.ack();
    expect((await c.fetch(1, 500)).map(text)).toEqual(['exhausted']); // never acked
    await bus.close();
    const reopened = open(path, { retentionMs: 0 }); // prunes on open
    const late = await reopened.consumer({ durable: 'late', subjects: ['aex.image.>'] });
    expect((await fetchAtLeast(late, 3, 300)).map(text)).toEqual(['waiting']);
  });

  test('dedupWindowMs bounds de-duplication, as JetStream’s duplicate_window does', async () => {
    const bus = open(newPath(), { dedupWindowMs: 100 });
    await bus.publish('aex.image.ingested', bytes('1'), { msgId: 'same' });
    await bus.publish('aex.image.ingested', bytes('2'), { msgId: 'same' });
    await Bun.sleep(150);
    await bus.publish('aex.image.ingested', bytes('3'), { msgId: 'same' });
    const c = await bus.consumer({ durable: 'window', subjects: ['aex.image.>'] });
    expect((await fetchAtLeast(c, 3, 300)).map(text)).toEqual(['1', '3']);
  });
});
