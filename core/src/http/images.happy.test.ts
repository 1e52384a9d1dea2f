import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  Image,
  ImageList,
  type ImageTagsComputed,
  makeEvent,
  Subjects,
  UploadResult,
} from '@aex/shared';
import { publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`images API on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
      });
      afterAll(async () => {
        await h?.stop();
      });

      const upload = async (file: string, headers: Record<string, string> = {}) =>
        h.request('/api/v1/images', {
          method: 'POST',
          body: await readFile(join(FIXTURES, file)),
          headers,
        });

      test('upload stores the image, its blobs and its event; GET returns it', async () => {
        const eventsBefore = await h.ingestedEvents();
        const res = await upload('exif-samples/jpg/Canon_40D.jpg', {
          'content-type': 'image/jpeg',
        });
        expect(res.status).toBe(201);
        const { image, created } = UploadResult.parse(await res.json());
        expect(created).toBe(true);
        expect(res.headers.get('location')).toBe(`/api/v1/images/${image.id}`);
        expect(image).toMatchObject({
          mime: 'image/jpeg',
          format: 'jpeg',
          width: 100,
          height: 68,
          camera: { make: 'Canon', model: 'Canon EOS 40D' },
          takenAt: '2008-05-30T15:56:01.000Z',
          // Internal (the default): signed URLs, see images.urls.test.ts.
          urls: {
            thumb: expect.stringMatching(new RegExp(`^/t/${image.sha256}/thumb\\?exp=\\d+&sig=`)),
            preview: expect.stringMatching(
              new RegExp(`^/t/${image.sha256}/preview\\?exp=\\d+&sig=`),
            ),
          },
          tags: [],
        });
        const bytes = await readFile(join(FIXTURES, 'exif-samples/jpg/Canon_40D.jpg'));
        expect(image.sha256).toBe(new Bun.CryptoHasher('sha256').update(bytes).digest('hex'));
        expect(image.byteSize).toBe(bytes.length);
        expect(await h.blobKeys()).toEqual(
          expect.arrayContaining([
            `originals/${image.sha256.slice(0, 2)}/${image.sha256}`,
            `derived/${image.sha256}/thumb.webp`,
            `derived/${image.sha256}/preview.webp`,
          ]),
        );
        const stored = await h.blobs.get(`originals/${image.sha256.slice(0, 2)}/${image.sha256}`);
        expect(Buffer.from(await new Response(stored?.body).arrayBuffer()).equals(bytes)).toBe(
          true,
        );
        const got = await h.request(`/api/v1/images/${image.id}`);
        expect(got.status).toBe(200);
        expect(Image.parse(await got.json())).toEqual(image);
        // The outbox relay publishes the event shortly after the commit.
        const deadline = Date.now() + 10_000;
        while ((await h.ingestedEvents()) === eventsBefore && Date.now() < deadline)
          await Bun.sleep(50);
        expect(await h.ingestedEvents()).toBe(eventsBefore + 1);
        expect(await h.spoolFiles()).toEqual([]);
      });

      test('the same bytes again return the same image with 200 and write nothing new', async () => {
        const first = UploadResult.parse(await (await upload('objects/cat.jpg')).json());
        const keys = await h.blobKeys();
        const again = await upload('objects/cat.jpg', {
          'content-type': 'application/octet-stream',
        });
        expect(again.status).toBe(200);
        const second = UploadResult.parse(await again.json());
        expect(second.created).toBe(false);
        expect(second.image.id).toBe(first.image.id);
        expect(await h.blobKeys()).toEqual(keys);
      });

      test('concurrent uploads of the same bytes give one image', async () => {
        const results = await Promise.all([1, 2, 3, 4].map(() => upload('objects/rose.jpg')));
        const bodies = await Promise.all(
          results.map(async (r) => UploadResult.parse(await r.json())),
        );
        expect(new Set(bodies.map((b) => b.image.id)).size).toBe(1);
        expect(bodies.filter((b) => b.created)).toHaveLength(1);
      });

      test('the type comes from the bytes, whatever the Content-Type says', async () => {
        const res = await upload('objects/tench_n01440764.png', { 'content-type': 'image/jpeg' });
        expect(res.status).toBe(201);
        const { image } = UploadResult.parse(await res.json());
        expect([image.mime, image.format]).toEqual(['image/png', 'png']);
      });

      test('list pages with a cursor, newest first, without gaps or repeats', async () => {
        for (const f of [
          'orientation/landscape_3.jpg',
          'orientation/portrait_5.jpg',
          'gps/DSCN0010.jpg',
        ]) {
          await upload(`exif-samples/jpg/${f}`);
        }
        // Upload order (newest first): ids are UUID v7, so they must come out descending.
        const all = ImageList.parse(
          await (await h.request('/api/v1/images?limit=200&sort=-createdAt')).json(),
        );
        expect(all.nextCursor).toBeNull();
        const paged: string[] = [];
        let cursor: string | null = null;
        do {
          const q: string = cursor ? `&cursor=${cursor}` : '';
          const page = ImageList.parse(
            await (await h.request(`/api/v1/images?limit=2&sort=-createdAt${q}`)).json(),
          );
          expect(page.items.length).toBeLessThanOrEqual(2);
          paged.push(...page.items.map((i) => i.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(paged).toEqual(all.items.map((i) => i.id));
        expect([...paged].sort().reverse()).toEqual(paged);
      });

      test('an oriented photo reports its upright dimensions', async () => {
        const res = await upload('exif-samples/jpg/orientation/portrait_6.jpg');
        const { image } = UploadResult.parse(await res.json());
        expect(image.orientation).toBe(6);
        expect(image.height).toBeGreaterThan(image.width);
      });

      test('the OpenAPI document describes the routes and their schemas', async () => {
        const res = await h.request('/api/v1/openapi.json');
        expect(res.status).toBe(200);
        const doc = (await res.json()) as {
          openapi: string;
          paths: Record<string, Record<string, unknown>>;
          components: { schemas: Record<string, unknown> };
        };
        expect(doc.openapi).toBe('3.1.0');
        expect(Object.keys(doc.paths)).toEqual(
          expect.arrayContaining(['/api/v1/images', '/api/v1/images/{id}', '/api/v1/albums']),
        );
        expect(Object.keys(doc.paths['/api/v1/images'] ?? {}).sort()).toEqual(['get', 'post']);
        expect(doc.components.schemas).toHaveProperty('Image');
        expect(doc.components.schemas).toHaveProperty('Problem');
      });

      test('tag results from the bus are applied idempotently and per model version', async () => {
        const { image } = UploadResult.parse(
          await (await upload('exif-samples/jpg/Nikon_D70.jpg')).json(),
        );
        const result = (version: string, tags: ImageTagsComputed['tags']) =>
          makeEvent<ImageTagsComputed>({
            type: Subjects.imageTagsComputed,
            imageId: image.id,
            model: { id: 'classify-mobilenetv2', version },
            tags,
          });
        const tagsNow = async () =>
          Image.parse(await (await h.request(`/api/v1/images/${image.id}`)).json()).tags;
        const waitFor = async (n: number) => {
          const deadline = Date.now() + 10_000;
          while ((await tagsNow()).length !== n && Date.now() < deadline) await Bun.sleep(50);
          return tagsNow();
        };
        const first = result('1', [
          { label: 'lakeside', score: 0.6 },
          { label: 'boathouse', score: 0.3 },
        ]);
        // The same result twice (as a redelivery would), and a second computation of it.
        await publishEvent(h.bus, first);
        await publishEvent(h.bus, first);
        await publishEvent(h.bus, result('1', first.tags));
        const applied = await waitFor(2);
        expect(applied.map((t) => t.label)).toEqual(['lakeside', 'boathouse']);
        // A new model version lands beside the old one, which keeps serving until activated.
        await publishEvent(h.bus, result('2', [{ label: 'lake', score: 0.9 }]));
        const modelsNow = async () =>
          (await (await h.request('/api/v1/admin/models')).json()) as {
            tasks: Array<{ task: string; versions: Array<{ model: { version: string } }> }>;
          };
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline) {
          const tags = (await modelsNow()).tasks.find((t) => t.task === 'tags');
          if (tags?.versions.some((v) => v.model.version === '2')) break;
          await Bun.sleep(50);
        }
        expect((await tagsNow()).map((t) => t.model.version)).toEqual(['1', '1']);
        const activated = await h.request('/api/v1/admin/models/activate', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            task: 'tags',
            model: { id: 'classify-mobilenetv2', version: '2' },
            force: true,
          }),
        });
        expect(activated.status).toBe(200);
        expect(await tagsNow()).toEqual([
          {
            label: 'lake',
            score: expect.closeTo(0.9, 5),
            model: { id: 'classify-mobilenetv2', version: '2' },
          },
        ]);
      });

      test('health and readiness answer', async () => {
        expect((await h.request('/healthz')).status).toBe(200);
        expect(await (await h.request('/readyz')).json()).toEqual({ status: 'ready' });
      });
    },
  );
}
