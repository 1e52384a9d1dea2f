import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageIngested, makeEvent, newId, Subjects } from '@aex/shared';
import { createEmbeddedEventBus } from '@aex/shared/ports/event-bus/embedded';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { encodeEvent } from '@aex/shared/ports/event-bus/run-consumer';
import { silentLogger } from '@aex/shared/ports/log';
import { ImageRepository } from '../db/image-repository.ts';
import { OutboxRepository } from '../db/outbox-repository.ts';
import { outbox as outboxTable } from '../db/schema.ts';
import { createPgliteTestDatabase, type TestDatabase } from '../db/testing.ts';
import { OutboxRelay } from './outbox-relay.ts';

describe('outbox relay', () => {
  let dir: string;
  let t: TestDatabase;
  let images: ImageRepository;
  let outbox: OutboxRepository;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aex-relay-'));
    t = await createPgliteTestDatabase();
    images = new ImageRepository(t.database.db);
    outbox = new OutboxRepository(t.database.db);
  });
  afterAll(async () => {
    await t.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const openBus = () => createEmbeddedEventBus({ path: join(dir, 'bus.sqlite') });

  async function commitImage(): Promise<ImageIngested> {
    const sha = new Bun.CryptoHasher('sha256').update(newId()).digest('hex');
    const event = makeEvent<ImageIngested>({
      type: Subjects.imageIngested,
      imageId: newId(),
      sha256: sha,
      mime: 'image/png',
      width: 1,
      height: 1,
      originalKey: `originals/${sha.slice(0, 2)}/${sha}`,
      previewKey: `derived/${sha}/preview.webp`,
      thumbKey: `derived/${sha}/thumb.webp`,
    });
    await images.insertWithEvents(
      {
        id: event.imageId,
        sha256: sha,
        byteSize: 1,
        mime: 'image/png',
        format: 'png',
        width: 1,
        height: 1,
        thumbhash: 'AA',
        originalKey: event.originalKey,
        thumbKey: event.thumbKey,
        previewKey: event.previewKey,
      },
      [event],
    );
    return event;
  }

  /** Every image id announced on the bus so far (a fresh durable sees all). */
  async function announced(bus: EventBus): Promise<string[]> {
    const probe = await bus.consumer({
      durable: `probe-${newId().slice(-12)}`,
      subjects: [Subjects.imageIngested],
    });
    const ids: string[] = [];
    for (;;) {
      const batch = await probe.fetch(100, 100);
      if (batch.length === 0) break;
      for (const d of batch)
        ids.push((JSON.parse(new TextDecoder().decode(d.data)) as ImageIngested).imageId);
    }
    await probe.close();
    return ids;
  }

  test('a nudge publishes at once, long before the timer', async () => {
    const bus = openBus();
    const relay = new OutboxRelay(outbox, bus, silentLogger(), { intervalMs: 60_000 });
    relay.start();
    await Bun.sleep(50);
    const event = await commitImage();
    relay.nudge();
    const deadline = Date.now() + 2_000;
    while ((await outbox.count()) > 0 && Date.now() < deadline) await Bun.sleep(20);
    await relay.stop();
    expect(await outbox.count()).toBe(0);
    expect(await announced(bus)).toContain(event.imageId);
    await bus.close();
  });

  test('while the bus is down events wait in the outbox with the error; then they go out', async () => {
    const down = openBus();
    await down.close();
    const event = await commitImage();
    const failed = await new OutboxRelay(outbox, down, silentLogger()).drainOnce();
    expect(failed).toEqual({ published: 0, failed: true });
    const rows = await t.database.db.select().from(outboxTable);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.attempts).toBe(1);
    expect(rows[0]?.lastError).toBeTruthy();

    const up = openBus();
    expect(await new OutboxRelay(outbox, up, silentLogger()).drainOnce()).toEqual({
      published: 1,
      failed: false,
    });
    expect(await announced(up)).toContain(event.imageId);
    await up.close();
  });

  test('a crash between publish and delete only makes a duplicate the bus drops', async () => {
    const bus = openBus();
    const event = await commitImage();
    // The relay published this event, then died before deleting its outbox row.
    await bus.publish(event.type, encodeEvent(event), { msgId: event.id });
    await new OutboxRelay(outbox, bus, silentLogger()).drainOnce();
    const ids = await announced(bus);
    expect(ids.filter((id) => id === event.imageId)).toHaveLength(1);
    await bus.close();
  });

  test('the fast path publishes committed events from memory and forgets their rows', async () => {
    const bus = openBus();
    const relay = new OutboxRelay(outbox, bus, silentLogger(), {
      intervalMs: 60_000,
      minGapMs: 10,
    });
    const event = await commitImage();
    relay.publishCommitted([event]);
    const deadline = Date.now() + 2_000;
    while ((await outbox.count()) > 0 && Date.now() < deadline) await Bun.sleep(10);
    await relay.stop();
    expect(await outbox.count()).toBe(0);
    expect((await announced(bus)).filter((id) => id === event.imageId)).toHaveLength(1);
    await bus.close();
  });

  test('timer drains leave young events to the fast path; a crash leaves them for later', async () => {
    const bus = openBus();
    const relay = new OutboxRelay(outbox, bus, silentLogger(), { fastPathGraceMs: 60_000 });
    // Committed, but the process "died" before its fast path ran: the timer's drain leaves a
    // young event alone, and a drain of everything (start-up, a nudge) publishes it.
    const event = await commitImage();
    expect(await relay.drainOnce({ all: false })).toEqual({ published: 0, failed: false });
    expect(await relay.drainOnce({ all: true })).toEqual({ published: 1, failed: false });
    expect(await announced(bus)).toContain(event.imageId);
    await bus.close();
  });
});
