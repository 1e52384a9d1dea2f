import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type ImageIngested, makeEvent, newId, Subjects } from '@aex/shared';
import { postgresReachable, suiteName } from '@aex/shared/testing/servers';
import { ImageRepository } from './image-repository.ts';
import { OutboxRepository } from './outbox-repository.ts';
import type { NewImageRow } from './schema.ts';
import {
  createPgliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from './testing.ts';

// One contract for the metadata store, run on every adapter this machine has (DESIGN.md,
// "Ports"): PGlite always, Postgres when it is reachable (else reported as skipped).
const adapters = [
  { name: 'PGlite', available: true, make: createPgliteTestDatabase },
  { name: 'Postgres', available: postgresReachable, make: createPostgresTestDatabase },
];

function imageRow(overrides: Partial<NewImageRow> = {}): NewImageRow {
  const sha256 = (
    crypto.randomUUID().replaceAll('-', '') + crypto.randomUUID().replaceAll('-', '')
  ).slice(0, 64);
  return {
    id: newId(),
    sha256,
    byteSize: 1234,
    mime: 'image/jpeg',
    format: 'jpeg',
    width: 640,
    height: 480,
    orientation: 1,
    thumbhash: 'AAAA',
    takenAt: new Date('2020-05-01T10:00:00Z'),
    cameraMake: 'Canon',
    cameraModel: 'EOS 40D',
    originalKey: `originals/${sha256.slice(0, 2)}/${sha256}`,
    thumbKey: `derived/${sha256}/thumb.webp`,
    previewKey: `derived/${sha256}/preview.webp`,
    ...overrides,
  };
}

function ingested(row: NewImageRow): ImageIngested {
  return makeEvent<ImageIngested>({
    type: Subjects.imageIngested,
    imageId: row.id,
    sha256: row.sha256,
    mime: row.mime,
    width: row.width,
    height: row.height,
    originalKey: row.originalKey,
    previewKey: row.previewKey,
    thumbKey: row.thumbKey,
  });
}

for (const adapter of adapters) {
  describe.skipIf(!adapter.available)(
    suiteName(`metadata store contract on ${adapter.name}`, adapter.available, adapter.name),
    () => {
      let t: TestDatabase;
      let images: ImageRepository;
      let outbox: OutboxRepository;
      const model = { id: 'classify-mobilenetv2', version: '12-int8' };

      beforeAll(async () => {
        t = await adapter.make();
        images = new ImageRepository(t.database.db);
        outbox = new OutboxRepository(t.database.db);
      });
      afterAll(async () => {
        await t?.drop();
      });

      test('an image and its event are written together', async () => {
        const row = imageRow();
        const before = await outbox.count();
        const { inserted } = await images.insertWithEvents(row, [ingested(row)]);
        expect(inserted?.id).toBe(row.id);
        const found = await images.findById(row.id);
        expect(found).toEqual(inserted);
        expect(found).toMatchObject({ sha256: row.sha256, width: 640, cameraModel: 'EOS 40D' });
        expect(found?.takenAt?.toISOString()).toBe('2020-05-01T10:00:00.000Z');
        expect(found?.createdAt).toBeInstanceOf(Date);
        expect(await outbox.count()).toBe(before + 1);
      });

      test('the same sha256 again writes neither a row nor an event', async () => {
        const row = imageRow();
        await images.insertWithEvents(row, [ingested(row)]);
        const before = await outbox.count();
        const again = { ...row, id: newId() };
        expect(await images.insertWithEvents(again, [ingested(again)])).toEqual({ inserted: null });
        expect(await images.findById(again.id)).toBeNull();
        expect((await images.findBySha256(row.sha256))?.id).toBe(row.id);
        expect(await outbox.count()).toBe(before);
      });

      test('a failing event insert rolls the image back (one transaction)', async () => {
        const row = imageRow();
        const event = ingested(row);
        // An event id that already exists in the outbox makes the second insert fail.
        const first = imageRow();
        await images.insertWithEvents(first, [event]);
        await expect(images.insertWithEvents(row, [event])).rejects.toThrow();
        expect(await images.findById(row.id)).toBeNull();
      });

      test('list pages newest first with a cursor id, without gaps or repeats', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const row = imageRow();
          ids.push(row.id);
          await images.insertWithEvents(row, []);
        }
        const seen: string[] = [];
        let beforeId: string | undefined;
        for (;;) {
          const page = await images.list({ limit: 2, beforeId });
          if (page.length === 0) break;
          seen.push(...page.map((r) => r.id));
          beforeId = page.at(-1)?.id;
        }
        expect(new Set(seen).size).toBe(seen.length);
        const mine = seen.filter((id) => ids.includes(id));
        expect(mine).toEqual([...ids].reverse());
      });

      test('replaceTags is idempotent and keyed by model version', async () => {
        const row = imageRow();
        await images.insertWithEvents(row, []);
        const tags = [
          { label: 'tabby cat', score: 0.7 },
          { label: 'tiger cat', score: 0.2 },
        ];
        const at = new Date('2024-01-01T00:00:00Z');
        expect(await images.replaceTags(row.id, model, tags, at)).toBe('applied');
        expect(await images.replaceTags(row.id, model, tags, at)).toBe('applied');
        let stored = await images.tagsOf([row.id]);
        expect(stored.map((t) => [t.label, t.score])).toEqual([
          ['tabby cat', expect.closeTo(0.7, 5)],
          ['tiger cat', expect.closeTo(0.2, 5)],
        ]);
        // A new model version is stored beside the old one, not over it.
        await images.replaceTags(
          row.id,
          { ...model, version: 'v2' },
          [{ label: 'cat', score: 0.9 }],
          at,
        );
        stored = await images.tagsOf([row.id]);
        expect(stored).toHaveLength(3);
        // A newer result of the same version replaces that version's tags.
        await images.replaceTags(row.id, model, [{ label: 'lynx', score: 0.5 }], at);
        stored = await images.tagsOf([row.id]);
        expect(stored.map((t) => t.label).sort()).toEqual(['cat', 'lynx']);
      });

      test('replaceTags keeps the best score of a repeated label', async () => {
        const row = imageRow();
        await images.insertWithEvents(row, []);
        await images.replaceTags(
          row.id,
          model,
          [
            { label: 'cat', score: 0.3 },
            { label: 'cat', score: 0.6 },
          ],
          new Date(),
        );
        const stored = await images.tagsOf([row.id]);
        expect(stored).toHaveLength(1);
        expect(stored[0]?.score).toBeCloseTo(0.6, 5);
      });

      test('replaceTags on a missing image reports it and writes nothing', async () => {
        const id = newId();
        expect(
          await images.replaceTags(id, model, [{ label: 'cat', score: 0.5 }], new Date()),
        ).toBe('image_missing');
        expect(await images.tagsOf([id])).toEqual([]);
      });

      test('drain publishes oldest first and deletes only what was published', async () => {
        // Empty the outbox first so the counts below are this test's.
        await outbox.drain(10_000, async (rows) => ({ published: rows.map((r) => r.id) }));
        const rows = [imageRow(), imageRow(), imageRow()];
        for (const row of rows) await images.insertWithEvents(row, [ingested(row)]);
        const seen: string[] = [];
        const first = await outbox.drain(10, async (batch) => {
          seen.push(...batch.map((b) => (b.payload as ImageIngested).imageId));
          const [a, b] = batch;
          return { published: [a?.id ?? ''], failed: { id: b?.id ?? '', error: 'bus down' } };
        });
        expect(first).toEqual({ published: 1, failed: true });
        expect(seen).toEqual(rows.map((r) => r.id));
        expect(await outbox.count()).toBe(2);
        const second = await outbox.drain(10, async (batch) => ({
          published: batch.map((b) => b.id),
        }));
        expect(second).toEqual({ published: 2, failed: false });
        expect(await outbox.count()).toBe(0);
      });

      // PGlite has a single connection, so there is no second relay to race with.
      test.skipIf(adapter.name === 'PGlite')(
        'two relays never hold the same event (FOR UPDATE SKIP LOCKED)',
        async () => {
          const rows = [imageRow(), imageRow(), imageRow(), imageRow()];
          for (const row of rows) await images.insertWithEvents(row, [ingested(row)]);
          const seen: string[] = [];
          let release!: () => void;
          const gate = new Promise<void>((r) => {
            release = r;
          });
          const slow = outbox.drain(2, async (batch) => {
            seen.push(...batch.map((b) => b.id));
            await gate;
            return { published: batch.map((b) => b.id) };
          });
          await Bun.sleep(100);
          const fast = outbox.drain(10, async (batch) => {
            seen.push(...batch.map((b) => b.id));
            return { published: batch.map((b) => b.id) };
          });
          expect((await fast).published).toBe(2);
          release();
          expect((await slow).published).toBe(2);
          expect(new Set(seen).size).toBe(4);
        },
      );
    },
  );
}
