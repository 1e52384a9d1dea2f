import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ImageDeleted,
  makeEvent,
  newId,
  parseUrlSigningKey,
  Subjects,
  signThumbnailUrl,
} from '@aex/shared';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { createEmbeddedEventBus } from '@aex/shared/ports/event-bus/embedded';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { publishEvent, type RunningConsumer } from '@aex/shared/ports/event-bus/run-consumer';
import { silentLogger } from '@aex/shared/ports/log';
import { createEdge, type Edge, parseEdgeConfig } from '../mod.ts';
import { runEdgePurgeConsumer } from './purge-consumer.ts';

const SHA = '5'.repeat(64);
const KEY = '9f'.repeat(32);

// The all-in-one process: core and the edge share the (embedded) event bus.
describe('the all-in-one edge purges on aex.image.deleted from the bus', () => {
  let dir: string;
  let bus: EventBus;
  let edge: Edge;
  let consumer: RunningConsumer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aex-purge-bus-'));
    const blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
    await blobs.put(`derived/${SHA}/thumb.webp`, new Uint8Array(300).fill(1));
    bus = createEmbeddedEventBus({ path: join(dir, 'bus.sqlite'), pollMs: 20 });
    edge = createEdge(
      parseEdgeConfig({ AEX_DATA_DIR: dir, AEX_URL_SIGNING_KEY: KEY, AEX_WEB_DIR: dir }),
      { log: silentLogger(), blobs },
    );
    consumer = await runEdgePurgeConsumer(bus, edge, silentLogger());
  });
  afterAll(async () => {
    await consumer?.stop();
    await edge?.close();
    await bus?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a deleted image is a 404 within 2 s', async () => {
    const url = `http://edge${await signThumbnailUrl({ sha256: SHA, variant: 'thumb', key: parseUrlSigningKey(KEY) })}`;
    expect((await edge.fetch(new Request(url))).status).toBe(200);
    const since = performance.now();
    await publishEvent(
      bus,
      makeEvent<ImageDeleted>({ type: Subjects.imageDeleted, imageId: newId(), sha256: SHA }),
    );
    let status = 200;
    while (status !== 404 && performance.now() - since < 2000) {
      status = (await edge.fetch(new Request(url))).status;
      if (status !== 404) await Bun.sleep(10);
    }
    expect(status).toBe(404);
  });
});
