import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Image, Problem, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`image PATCH on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let canon: Image; // taken 2008-05-30 (EXIF)
      let cat: Image;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        const upload = async (file: string) => {
          const res = await h.request('/api/v1/images', {
            method: 'POST',
            body: await readFile(join(FIXTURES, file)),
          });
          return UploadResult.parse(await res.json()).image;
        };
        canon = await upload('exif-samples/jpg/Canon_40D.jpg');
        cat = await upload('objects/cat.jpg');
      }, 30_000);
      afterAll(async () => {
        await h?.stop();
      });

      const patch = (id: string, body: unknown, headers = { 'content-type': 'application/json' }) =>
        h.request(`/api/v1/images/${id}`, {
          method: 'PATCH',
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers,
        });
      const get = async (id: string) =>
        Image.parse(await (await h.request(`/api/v1/images/${id}`)).json());

      test('description, visibility, keywords and rating change; updatedAt moves', async () => {
        const before = await get(canon.id);
        await Bun.sleep(5);
        const res = await patch(canon.id, {
          description: 'Sunset over the bay',
          visibility: 'public',
          keywords: ['Sunset', 'bay', 'sunset', 'Bay '],
          rating: 4,
        });
        expect(res.status).toBe(200);
        const changed = Image.parse(await res.json());
        expect(changed).toMatchObject({
          description: 'Sunset over the bay',
          visibility: 'public',
          keywords: ['Sunset', 'bay'],
          rating: 4,
          takenAt: before.takenAt,
          takenAtSource: before.takenAtSource,
        });
        expect(changed.updatedAt > before.updatedAt).toBe(true);
        expect(await get(canon.id)).toEqual(changed);
        // null clears; keywords replace the list.
        const cleared = Image.parse(
          await (await patch(canon.id, { description: null, rating: null, keywords: [] })).json(),
        );
        expect(cleared).toMatchObject({ description: null, rating: null, keywords: [] });
        expect(cleared.visibility).toBe('public');
      });

      test('a taken-at correction is marked as the user’s, with its offset', async () => {
        const withOffset = Image.parse(
          await (await patch(cat.id, { takenAt: '2019-07-14T18:30:00+02:00' })).json(),
        );
        expect(withOffset).toMatchObject({
          takenAt: '2019-07-14T16:30:00.000Z',
          takenAtOffset: 120,
          takenAtSource: 'user',
        });
        const utc = Image.parse(
          await (await patch(cat.id, { takenAt: '2019-07-14T16:30:00Z' })).json(),
        );
        expect(utc.takenAtOffset).toBeNull();
        const given = Image.parse(
          await (
            await patch(cat.id, { takenAt: '2019-07-14T16:30:00Z', takenAtOffset: -300 })
          ).json(),
        );
        expect(given.takenAtOffset).toBe(-300);
        const offsetOnly = Image.parse(await (await patch(cat.id, { takenAtOffset: 60 })).json());
        expect(offsetOnly).toMatchObject({
          takenAt: '2019-07-14T16:30:00.000Z',
          takenAtOffset: 60,
        });
        // The timeline follows at once (sort_at is generated from taken_at).
        const oldest = async () =>
          (
            (await (await h.request('/api/v1/images?sort=takenAt&limit=1')).json()) as {
              items: Image[];
            }
          ).items[0]?.id;
        expect(await oldest()).toBe(canon.id);
        await patch(cat.id, { takenAt: '1999-12-31T23:59:59Z' });
        expect(await oldest()).toBe(cat.id);
        const unknown = Image.parse(await (await patch(cat.id, { takenAt: null })).json());
        expect(unknown).toMatchObject({ takenAt: null, takenAtOffset: null, takenAtSource: null });
      });

      test('bad PATCH bodies are refused and change nothing', async () => {
        const before = await get(canon.id);
        const refused = async (
          id: string,
          body: unknown,
          status: number,
          detail: RegExp,
          headers?: Record<string, string>,
        ) => {
          const res = await patch(id, body, headers as { 'content-type': string });
          expect(res.status).toBe(status);
          expect(res.headers.get('content-type')).toBe('application/problem+json');
          expect(Problem.parse(await res.json()).detail).toMatch(detail);
        };
        await refused(canon.id, {}, 400, /changes nothing/);
        await refused(canon.id, { title: 'x' }, 400, /title|unrecognized/i);
        await refused(canon.id, { rating: 6 }, 400, /rating/);
        await refused(canon.id, { rating: '5' }, 400, /rating/);
        await refused(canon.id, { visibility: 'secret' }, 400, /visibility/);
        await refused(canon.id, { keywords: 'a,b' }, 400, /keywords/);
        await refused(canon.id, { keywords: [''] }, 400, /keywords/);
        await refused(canon.id, { keywords: ['x'.repeat(201)] }, 400, /keywords/);
        await refused(
          canon.id,
          { keywords: Array.from({ length: 501 }, (_, i) => `k${i}`) },
          400,
          /keywords/,
        );
        await refused(canon.id, { description: 'x'.repeat(10_001) }, 400, /description/);
        await refused(canon.id, { takenAt: 'last tuesday' }, 400, /takenAt/);
        await refused(canon.id, { takenAt: '2019-07-14T16:30:00+23:00' }, 400, /offset|takenAt/);
        await refused(canon.id, { takenAtOffset: 900 }, 400, /takenAtOffset/);
        await refused(canon.id, { takenAt: null, takenAtOffset: 60 }, 400, /takenAtOffset/);
        await refused(canon.id, '{"rating": ', 400, /./);
        await refused(canon.id, '[1,2]', 400, /./);
        await refused(canon.id, 'rating=5', 415, /unsupported|json/i, {
          'content-type': 'text/plain',
        });
        await refused('not-a-uuid', { rating: 1 }, 400, /id/);
        await refused(crypto.randomUUID(), { rating: 1 }, 404, /No image/);
        expect(await get(canon.id)).toEqual(before);
        expect((await get(cat.id)).takenAt).toBeNull();
        await refused(cat.id, { takenAtOffset: 60 }, 400, /no takenAt/);
      });
    },
  );
}
