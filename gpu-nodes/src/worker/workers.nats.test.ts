import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AexEvent, DeadLetter, type ImageIngested, Subjects } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { createNatsEventBus } from '@aex/shared/ports/event-bus/nats';
import { deleteTestStream } from '@aex/shared/testing/nats-streams';
import { type AexProcess, freePort, spawnAex } from '@aex/shared/testing/processes';
import { natsReachable, randomToken, suiteName, TEST_NATS_URL } from '@aex/shared/testing/servers';
import { FIXTURE_IMAGES, modelSuiteName, mustSkip, testModel } from '../models/testing.ts';
import { distinctPreviews, ingest, readAll } from './testing.ts';

// The proof of issue 4's "Execution": real `aex serve worker` processes on one JetStream
// consumer, each test with its own stream, subject prefix and blob folder.

const model = await testModel('classify-mobilenetv2');
const title = 'workers sharing one consumer on NATS JetStream';
const skip = !natsReachable || mustSkip(model, true);

describe.skipIf(skip)(
  natsReachable ? modelSuiteName(title, model, true) : suiteName(title, false, TEST_NATS_URL),
  () => {
    let dir: string;
    let stream: string;
    let prefix: string;
    let bus: EventBus;
    let blobs: BlobStore;
    const workers: AexProcess[] = [];

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'aex-workers-'));
      stream = `AEXTEST_${randomToken(8).toUpperCase()}`;
      prefix = `t${randomToken(8)}`;
      bus = await createNatsEventBus({ servers: TEST_NATS_URL, stream, subjectPrefix: prefix });
      blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL')));
      await bus.close();
      await blobs.close();
      await deleteTestStream(TEST_NATS_URL, stream);
      await rm(dir, { recursive: true, force: true });
    });

    /** Starts `aex serve worker` (tags only) on this test's stream and blobs; resolves when healthy. */
    async function startWorkers(count: number, env: Record<string, string>) {
      const started = await Promise.all(
        Array.from({ length: count }, async () => {
          const port = await freePort();
          const w = spawnAex(['serve', 'worker'], {
            NATS_URL: TEST_NATS_URL,
            NATS_STREAM: stream,
            NATS_SUBJECT_PREFIX: prefix,
            AEX_DATA_DIR: dir,
            AEX_MODEL_DIR: model.available ? model.modelDir : '',
            AEX_WORKER_TASKS: 'tags',
            WORKER_PORT: String(port),
            AEX_HOST: '127.0.0.1',
            LOG_LEVEL: 'debug',
            ...env,
          });
          workers.push(w);
          await w.waitHealthy(`http://127.0.0.1:${port}/`, 60_000);
          return w;
        }),
      );
      return started;
    }

    /**
     * Images each worker tagged, from its `batch settled` lines. Only successes count: on
     * nats-server < 2.10 the consumer reads all of `aex.image.>` and skips the result events.
     */
    const settled = (w: AexProcess) => {
      const lines = w.logs().filter((l) => l.msg === 'batch settled');
      const count = (l: Record<string, unknown>, status: string) =>
        Number((l.outcomes as Record<string, number> | undefined)?.[status] ?? 0);
      return {
        batches: lines.length,
        images: lines.reduce((n, l) => n + count(l, 'success'), 0),
        redelivered: lines.reduce((n, l) => n + Number(l.redelivered), 0),
      };
    };

    /** Result events per image, with their distinct ids. */
    async function results(events: ImageIngested[], timeoutMs: number) {
      const raw = await readAll(bus, Subjects.imageTagsComputed, events.length, timeoutMs);
      const ids = new Map<string, Set<string>>();
      for (const m of raw) {
        const e = AexEvent.parse(m);
        ids.set(e.imageId, (ids.get(e.imageId) ?? new Set()).add(e.id));
      }
      return { raw: raw.length, ids };
    }

    test('two workers share the work; every image gets exactly one result', async () => {
      const [a, b] = (await startWorkers(2, {
        AEX_WORKER_BATCH: '4',
        AEX_WORKER_BATCH_WAIT: '20ms',
        AEX_WORKER_CONCURRENCY: '1',
      })) as [AexProcess, AexProcess];
      // Enough work that a worker's cold first batch cannot let the other finish it all alone.
      const previews = await distinctPreviews(96, 480);
      const events: ImageIngested[] = [];
      for (const p of previews) events.push(await ingest(bus, blobs, p));
      const { raw, ids } = await results(events, 60_000);
      expect(events.filter((e) => ids.get(e.imageId)?.size !== 1)).toEqual([]);
      expect(raw).toBe(events.length);
      // The last batch's log line follows its acks, so it may come a moment after its result.
      const logged = () => settled(a).images + settled(b).images;
      for (let i = 0; i < 100 && logged() < events.length; i++) await Bun.sleep(50);
      const [sa, sb] = [settled(a), settled(b)];
      console.info(
        JSON.stringify({ proof: 'shared consumer', images: events.length, a: sa, b: sb }),
      );
      expect(sa.images).toBeGreaterThan(0);
      expect(sb.images).toBeGreaterThan(0);
      expect(sa.images + sb.images).toBe(events.length);
      // SIGTERM drains: both exit cleanly.
      expect(await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')])).toEqual([0, 0]);
    }, 120_000);

    test('a worker killed mid-batch: the other completes its messages after the ack wait', async () => {
      const [victim, survivor] = (await startWorkers(2, {
        AEX_WORKER_BATCH: '16',
        AEX_WORKER_BATCH_WAIT: '100ms',
        AEX_WORKER_CONCURRENCY: '1',
        AEX_WORKER_ACK_WAIT: '3s',
      })) as [AexProcess, AexProcess];
      const previews = await distinctPreviews(64, 1024);
      // Watch from the first publish: the victim dies as soon as it starts its first batch.
      let killedAt = 0;
      let lost = 0;
      const watch = (async () => {
        const deadline = Date.now() + 60_000;
        while (!victim.logs().some((l) => l.msg === 'batch started') && Date.now() < deadline) {
          await Bun.sleep(2);
        }
        killedAt = Date.now();
        await victim.stop('SIGKILL');
        lost = victim.logs().filter((l) => l.msg === 'batch started').length;
        lost -= settled(victim).batches;
      })();
      const events: ImageIngested[] = [];
      for (const p of previews) events.push(await ingest(bus, blobs, p));
      await watch;
      const { raw, ids } = await results(events, 60_000);
      const tookMs = Date.now() - killedAt;
      expect(events.filter((e) => ids.get(e.imageId)?.size !== 1)).toEqual([]);
      // The victim may have published some results before it died unacked: those jobs come
      // back after the ack wait all the same, and the survivor settles them (a duplicate
      // publish the bus drops). Wait for that, and for its log lines.
      const done = () => settled(victim).images + settled(survivor).images >= events.length;
      for (let i = 0; i < 300 && !(settled(survivor).redelivered > 0 && done()); i++) {
        await Bun.sleep(50);
      }
      const s = settled(survivor);
      console.info(
        JSON.stringify({
          proof: 'killed mid-batch',
          images: events.length,
          resultMessages: raw,
          victim: { ...settled(victim), batchesLost: lost },
          survivor: s,
          afterKillMs: tookMs,
        }),
      );
      // It died holding unacked messages (in a batch, or still filling one), and they came back
      // to the survivor after the ack wait.
      expect(s.redelivered).toBeGreaterThan(0);
      expect(settled(victim).images + s.images).toBeGreaterThanOrEqual(events.length);
    }, 120_000);

    test('a poison image reaches aex.dlq.worker-tags with its reason; the rest flow on', async () => {
      const [worker] = (await startWorkers(1, { AEX_WORKER_BATCH: '8' })) as [AexProcess];
      const previews = await distinctPreviews(12);
      const good: ImageIngested[] = [];
      for (const p of previews.slice(0, 6)) good.push(await ingest(bus, blobs, p));
      const corrupt = new Uint8Array(
        await readFile(join(FIXTURE_IMAGES, 'exif-samples/jpg/corrupted.jpg')),
      );
      const poison = await ingest(bus, blobs, corrupt);
      for (const p of previews.slice(6)) good.push(await ingest(bus, blobs, p));
      const letters = (await readAll(bus, 'aex.dlq.worker-tags', 1, 30_000)).map((m) =>
        DeadLetter.parse(m),
      );
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        consumer: 'worker-tags',
        subject: Subjects.imageIngested,
        deliveries: 1,
      });
      expect(letters[0]?.error).toContain(`tags cannot process image ${poison.imageId}`);
      const { ids } = await results(good, 30_000);
      expect(good.filter((e) => ids.get(e.imageId)?.size !== 1)).toEqual([]);
      expect(ids.has(poison.imageId)).toBe(false);
      expect(await worker.stop('SIGTERM')).toBe(0);
    }, 120_000);
  },
);
