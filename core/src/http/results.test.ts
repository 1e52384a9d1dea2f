import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { AexEvent, Image, ImageList, Problem, Subjects } from '@aex/shared';
import type { Consumer } from '@aex/shared/ports/event-bus/event-bus';
import { randomToken, suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';
import { eventually, resultPublisher, uploadImages } from '../testing/result-events.ts';

// Results as the API shows them (the active model versions only), model activation, and the
// reindex API, on the embedded adapters and on the real servers.

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`inference results API on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let ids: string[];
      let probe: Consumer;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        probe = await h.bus.consumer({
          durable: `test-reindex-${randomToken(6)}`,
          subjects: [Subjects.imageReindexRequested],
        });
        ids = await uploadImages(h, 3);
      }, 30_000);
      afterAll(async () => {
        await probe?.close();
        await h?.stop();
      });

      const faces1 = { id: 'face-embed-sface', version: '2021dec' };
      const faces2 = { id: 'face-embed-sface', version: '2027' };
      const ocr1 = { id: 'ocr-ppocrv4-rec', version: 'v4' };
      const get = async (id: string) =>
        Image.parse(await (await h.request(`/api/v1/images/${id}`)).json());
      const models = async () =>
        (await (await h.request('/api/v1/admin/models')).json()) as {
          images: number;
          tasks: Array<{
            task: string;
            active: { id: string; version: string } | null;
            versions: Array<{ model: { version: string }; images: number; complete: boolean }>;
          }>;
        };
      const coverage = async (task: string, version: string) =>
        (await models()).tasks
          .find((t) => t.task === task)
          ?.versions.find((v) => v.model.version === version)?.images ?? 0;
      /** Reindex events published since the last call: at least `min`, then until 300 ms pass quietly. */
      const reindexed = async (min = 0) => {
        const deadline = Date.now() + 10_000;
        const got: Array<{ imageId: string; task: string; sha256: string; previewKey: string }> =
          [];
        for (;;) {
          const batch = await probe.fetch(100, 300);
          if (batch.length === 0 && (got.length >= min || Date.now() > deadline)) return got;
          for (const d of batch) {
            const e = AexEvent.parse(JSON.parse(new TextDecoder().decode(d.data)));
            if (e.type === Subjects.imageReindexRequested) got.push(e);
            await d.ack();
          }
        }
      };

      test('an image shows the tags, faces and text of the active versions; lists batch them', async () => {
        const [a, b, c] = ids as [string, string, string];
        const publish = resultPublisher(h);
        await publish.faces(a, faces1, [0.1, 0.5]);
        await publish.faces(b, faces1, []);
        await publish.text(a, ocr1, ['STOP', 'Main Street']);
        await publish.text(b, ocr1, ['Exit']);
        await publish.tags(a, { id: 'classify-mobilenetv2', version: '12-int8' }, [
          'stop sign',
          'street',
        ]);
        expect(
          await eventually(async () => {
            const img = await get(a);
            return img.faces.length === 2 && img.text.length === 2 && img.tags.length === 2;
          }),
        ).toBe(true);
        const image = await get(a);
        expect(image.faces[0]).toEqual({
          id: expect.any(String),
          box: {
            x: expect.closeTo(0.1, 5),
            y: expect.closeTo(0.2, 5),
            width: expect.closeTo(0.1, 5),
            height: expect.closeTo(0.15, 5),
          },
          landmarks: expect.any(Array),
          score: expect.closeTo(0.99, 5),
          model: faces1,
          detector: { id: 'face-detect-yunet', version: '2026may' },
        });
        expect(image.faces[0]?.landmarks).toHaveLength(5);
        expect(JSON.stringify(image)).not.toContain('embedding');
        expect(image.text).toEqual([
          { text: 'STOP', confidence: expect.closeTo(0.95, 5), polygon: expect.any(Array) },
          { text: 'Main Street', confidence: expect.closeTo(0.95, 5), polygon: expect.any(Array) },
        ]);
        expect(image.text[1]?.polygon[0]).toEqual([expect.closeTo(0.1, 5), expect.closeTo(0.1, 5)]);
        expect(await eventually(async () => (await get(b)).text.length === 1)).toBe(true);
        const list = ImageList.parse(await (await h.request('/api/v1/images?limit=10')).json());
        const byId = new Map(list.items.map((i) => [i.id, i]));
        expect(byId.get(a)?.faces).toHaveLength(2);
        expect(byId.get(a)?.text.map((l) => l.text)).toEqual(['STOP', 'Main Street']);
        expect(byId.get(b)?.faces).toEqual([]);
        expect(byId.get(b)?.text.map((l) => l.text)).toEqual(['Exit']);
        expect(byId.get(c)).toMatchObject({ faces: [], text: [], tags: [] });
      });

      test('a new version fills in beside the active one and serves only once activated', async () => {
        const [a, b, c] = ids as [string, string, string];
        const publish = resultPublisher(h);
        await publish.faces(a, faces2, [0.3]);
        expect(await eventually(async () => (await coverage('faces', '2027')) === 1)).toBe(true);
        expect((await get(a)).faces.map((f) => f.model.version)).toEqual(['2021dec', '2021dec']);
        const refused = await h.request(
          '/api/v1/admin/models/activate',
          json('POST', { task: 'faces', model: faces2 }),
        );
        expect(refused.status).toBe(409);
        expect(Problem.parse(await refused.json()).detail).toContain('1 of 3 images');
        await publish.faces(b, faces2, []);
        await publish.faces(c, faces2, [0.6]);
        expect(await eventually(async () => (await coverage('faces', '2027')) === 3)).toBe(true);
        const ok = await h.request(
          '/api/v1/admin/models/activate',
          json('POST', { task: 'faces', model: faces2 }),
        );
        expect(ok.status).toBe(200);
        expect(await ok.json()).toMatchObject({
          task: 'faces',
          model: faces2,
          coverage: { images: 3, covered: 3, complete: true },
        });
        expect((await get(a)).faces.map((f) => [f.model.version, f.box.x])).toEqual([
          ['2027', expect.closeTo(0.3, 5)],
        ]);
        expect((await get(c)).faces).toHaveLength(1);
        const faces = (await models()).tasks.find((t) => t.task === 'faces');
        expect(faces?.active).toMatchObject(faces2);
        expect(faces?.versions.map((v) => [v.model.version, v.images, v.complete])).toEqual([
          ['2021dec', 2, false],
          ['2027', 3, true],
        ]);
        // force switches although nothing covers the images: their text disappears with it.
        const ocr2 = { id: 'ocr-ppocrv4-rec', version: 'v5' };
        const forced = await h.request(
          '/api/v1/admin/models/activate',
          json('POST', { task: 'ocr', model: ocr2, force: true }),
        );
        expect(forced.status).toBe(200);
        expect((await get(a)).text).toEqual([]);
        expect(
          (
            await h.request(
              '/api/v1/admin/models/activate',
              json('POST', { task: 'ocr', model: ocr1, force: true }),
            )
          ).status,
        ).toBe(200);
        expect((await get(a)).text).toHaveLength(2);
      });

      test('the tag filter matches labels of the serving tags version only', async () => {
        const c = ids[2] as string;
        const tags1 = { id: 'classify-mobilenetv2', version: '12-int8' };
        const tags2 = { id: 'classify-mobilenetv2', version: '13' };
        const tagged = async (label: string) =>
          ImageList.parse(
            await (await h.request(`/api/v1/images?tag=${encodeURIComponent(label)}`)).json(),
          ).items.map((i) => i.id);
        await resultPublisher(h).tags(c, tags2, ['zebra']);
        expect(await eventually(async () => (await coverage('tags', '13')) === 1)).toBe(true);
        expect(await tagged('zebra')).toEqual([]);
        const activate = (model: typeof tags1) =>
          h.request(
            '/api/v1/admin/models/activate',
            json('POST', { task: 'tags', model, force: true }),
          );
        expect((await activate(tags2)).status).toBe(200);
        expect(await tagged('Zebra')).toEqual([c]);
        expect((await activate(tags1)).status).toBe(200);
        expect(await tagged('zebra')).toEqual([]);
      });

      test('reindex queues exactly the images lacking the version, in batches, through the outbox', async () => {
        const [a, b, c] = ids as [string, string, string];
        const publish = resultPublisher(h);
        const tags = { id: 'classify-test', version: '1' };
        await publish.tags(a, tags, ['x']);
        await publish.tags(b, tags, ['y']);
        expect(await eventually(async () => (await coverage('tags', '1')) === 2)).toBe(true);
        await reindexed(); // drop anything queued before
        const first = await h.request(
          '/api/v1/admin/reindex',
          json('POST', { task: 'tags', model: tags, limit: 1 }),
        );
        expect(first.status).toBe(202);
        const batch = (await first.json()) as {
          task: string;
          model: unknown;
          queued: number;
          next: string | null;
        };
        expect(batch).toEqual({ task: 'tags', model: tags, queued: 1, next: c });
        const second = await h.request(
          '/api/v1/admin/reindex',
          json('POST', { task: 'tags', model: tags, limit: 1, after: batch.next }),
        );
        expect(await second.json()).toMatchObject({ queued: 0, next: null });
        const events = await reindexed(1);
        const image = await get(c);
        expect(events).toEqual([
          expect.objectContaining({
            imageId: c,
            task: 'tags',
            sha256: image.sha256,
            previewKey: `derived/${image.sha256}/preview.webp`,
          }),
        ]);
        // A version nobody has computed: every image, in batches of two.
        const fresh = { id: 'classify-test', version: '2' };
        const all: string[] = [];
        let after: string | undefined;
        do {
          const res = await h.request(
            '/api/v1/admin/reindex',
            json('POST', { task: 'tags', model: fresh, limit: 2, after }),
          );
          const body = (await res.json()) as { queued: number; next: string | null };
          after = body.next ?? undefined;
          all.push(...(await reindexed(body.queued)).map((e) => e.imageId));
        } while (after);
        expect(all.sort()).toEqual([a, b, c].sort());
      });

      test('bad input to the admin routes is refused and changes nothing', async () => {
        const before = await models();
        const post = async (path: string, body: unknown) => {
          const res = await h.request(path, json('POST', body));
          return { status: res.status, problem: Problem.parse(await res.json()) };
        };
        const activate = '/api/v1/admin/models/activate';
        for (const body of [
          {},
          { task: 'nope', model: faces1 },
          { task: 'faces' },
          { task: 'faces', model: { id: '', version: '1' } },
          { task: 'faces', model: faces1, extra: true },
          { task: 'faces', model: faces1, force: 'yes' },
        ]) {
          expect((await post(activate, body)).status).toBe(400);
        }
        for (const body of [
          { task: 'tags', limit: 0 },
          { task: 'tags', limit: 5001 },
          { task: 'tags', after: 'not-a-uuid' },
          { task: 'faces', model: { id: 'x' } },
        ]) {
          expect((await post('/api/v1/admin/reindex', body)).status).toBe(400);
        }
        const noModel = await post('/api/v1/admin/reindex', { task: 'clip' });
        expect(noModel.status).toBe(400);
        expect(noModel.problem.detail).toContain('No model serves clip');
        const notJson = await h.request(activate, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{',
        });
        expect(notJson.status).toBe(400);
        expect(await models()).toEqual(before);
        expect(await reindexed()).toEqual([]);
      });
    },
  );
}
