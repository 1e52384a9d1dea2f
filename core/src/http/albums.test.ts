import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Album, AlbumList, ImageList, Problem, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { positionsBetween } from '../db/album-repository.ts';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const FILES = [
  'objects/cat.jpg',
  'objects/rose.jpg',
  'exif-samples/jpg/Canon_40D.jpg',
  'exif-samples/jpg/Nikon_D70.jpg',
  'exif-samples/jpg/Pentax_K10D.jpg',
  'exif-samples/jpg/Sony_HDR-HC3.jpg',
];

describe('album positions', () => {
  test('spread evenly strictly between the neighbours', () => {
    expect(positionsBetween(0, 4, 3)).toEqual([1, 2, 3]);
    expect(positionsBetween(1024, 1025, 1)).toEqual([1024.5]);
  });
  test('ask for a renumbering when the gap is used up', () => {
    expect(positionsBetween(1, 1 + 1e-5, 1)).toBeNull();
    expect(positionsBetween(5, 5, 1)).toBeNull();
  });
});

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`albums on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let ids: string[] = [];
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        for (const file of FILES) {
          const res = await h.request('/api/v1/images', {
            method: 'POST',
            body: await readFile(join(FIXTURES, file)),
          });
          ids.push(UploadResult.parse(await res.json()).image.id);
        }
        ids = [...ids];
      }, 30_000);
      afterAll(async () => {
        await h?.stop();
      });

      const call = (method: string, path: string, body?: unknown) =>
        h.request(path, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
        });
      const albumOf = async (res: Response, status = 200) => {
        expect(res.status).toBe(status);
        return Album.parse(await res.json());
      };
      const create = async (name: string) =>
        albumOf(await call('POST', '/api/v1/albums', { name }), 201);
      const order = async (albumId: string) => {
        const res = await h.request(`/api/v1/images?album=${albumId}&sort=album&limit=200`);
        return ImageList.parse(await res.json()).items.map((i) => i.id);
      };
      const add = (albumId: string, body: object) =>
        call('POST', `/api/v1/albums/${albumId}/images`, body);
      const at = (...n: number[]) => n.map((i) => ids[i] as string);

      test('create, list, get, rename, describe, delete (the images stay)', async () => {
        const created = await call('POST', '/api/v1/albums', {
          name: '  Summer  ',
          description: 'Beach days',
        });
        const album = await albumOf(created, 201);
        expect(created.headers.get('location')).toBe(`/api/v1/albums/${album.id}`);
        expect(album).toMatchObject({
          name: 'Summer',
          description: 'Beach days',
          coverImageId: null,
          imageCount: 0,
        });
        await add(album.id, { imageIds: at(0, 1) });
        const listed = AlbumList.parse(await (await call('GET', '/api/v1/albums')).json());
        expect(listed.items.find((a) => a.id === album.id)?.imageCount).toBe(2);
        const renamed = await albumOf(
          await call('PATCH', `/api/v1/albums/${album.id}`, {
            name: 'Summer 2024',
            description: null,
          }),
        );
        expect(renamed).toMatchObject({ name: 'Summer 2024', description: null, imageCount: 2 });
        expect(renamed.updatedAt >= album.updatedAt).toBe(true);
        expect(await albumOf(await call('GET', `/api/v1/albums/${album.id}`))).toEqual(renamed);
        expect((await call('DELETE', `/api/v1/albums/${album.id}`)).status).toBe(204);
        expect((await call('GET', `/api/v1/albums/${album.id}`)).status).toBe(404);
        expect((await call('DELETE', `/api/v1/albums/${album.id}`)).status).toBe(404);
        for (const id of at(0, 1))
          expect((await call('GET', `/api/v1/images/${id}`)).status).toBe(200);
      });

      test('add at the end, before an image, again (no-op); remove; reorder', async () => {
        const album = await create('Order');
        expect((await albumOf(await add(album.id, { imageIds: at(0, 1, 2) }))).imageCount).toBe(3);
        expect(await order(album.id)).toEqual(at(0, 1, 2));
        await add(album.id, { imageIds: at(3, 4), before: ids[1] });
        expect(await order(album.id)).toEqual(at(0, 3, 4, 1, 2));
        await add(album.id, { imageIds: at(5), before: ids[0] });
        expect(await order(album.id)).toEqual(at(5, 0, 3, 4, 1, 2));
        // Already there: nothing moves, nothing doubles.
        const again = await albumOf(await add(album.id, { imageIds: at(2, 2, 5), before: ids[3] }));
        expect(again.imageCount).toBe(6);
        expect(await order(album.id)).toEqual(at(5, 0, 3, 4, 1, 2));
        const removed = await albumOf(
          await call('DELETE', `/api/v1/albums/${album.id}/images`, { imageIds: at(3, 1) }),
        );
        expect(removed.imageCount).toBe(4);
        expect(await order(album.id)).toEqual(at(5, 0, 4, 2));
        const put = await call('PUT', `/api/v1/albums/${album.id}/order`, {
          imageIds: at(2, 4, 0, 5),
        });
        expect((await albumOf(put)).imageCount).toBe(4);
        expect(await order(album.id)).toEqual(at(2, 4, 0, 5));
      });

      test('many insertions at one spot renumber the album and keep the order', async () => {
        const album = await create('Crowded');
        await add(album.id, { imageIds: at(0, 1) });
        // Always right after the first image: the gap there halves every time, and after ~23
        // halvings the album is renumbered.
        let expected = at(0, 1);
        for (let round = 0; round < 40; round++) {
          const moving = ids[2 + (round % 4)] as string;
          if (expected.includes(moving)) {
            await call('DELETE', `/api/v1/albums/${album.id}/images`, { imageIds: [moving] });
            expected = expected.filter((id) => id !== moving);
          }
          await add(album.id, { imageIds: [moving], before: expected[1] });
          expected.splice(1, 0, moving);
          expect(await order(album.id)).toEqual(expected);
        }
      });

      test('the cover must be an image of the album, and goes when its image does', async () => {
        const album = await create('Covered');
        await add(album.id, { imageIds: at(0, 1) });
        const refused = await call('PATCH', `/api/v1/albums/${album.id}`, { coverImageId: ids[2] });
        expect(refused.status).toBe(400);
        expect(Problem.parse(await refused.json()).detail).toMatch(/not an image of this album/);
        const covered = await albumOf(
          await call('PATCH', `/api/v1/albums/${album.id}`, { coverImageId: ids[1] }),
        );
        expect(covered.coverImageId).toBe(ids[1] as string);
        await call('DELETE', `/api/v1/albums/${album.id}/images`, { imageIds: at(1) });
        expect(
          (await albumOf(await call('GET', `/api/v1/albums/${album.id}`))).coverImageId,
        ).toBeNull();
        await call('PATCH', `/api/v1/albums/${album.id}`, { coverImageId: ids[0] });
        const unset = await albumOf(
          await call('PATCH', `/api/v1/albums/${album.id}`, { coverImageId: null }),
        );
        expect(unset.coverImageId).toBeNull();
      });

      test('bad input on every album route is refused and changes nothing', async () => {
        const album = await create('Guarded');
        await add(album.id, { imageIds: at(0, 1, 2) });
        const snapshot = async () => ({
          album: await albumOf(await call('GET', `/api/v1/albums/${album.id}`)),
          order: await order(album.id),
          count: AlbumList.parse(await (await call('GET', '/api/v1/albums')).json()).items.length,
        });
        const before = await snapshot();
        const unknownImage = crypto.randomUUID();
        const unknownAlbum = `/api/v1/albums/${crypto.randomUUID()}`;
        const a = `/api/v1/albums/${album.id}`;
        const many = Array.from({ length: 1001 }, () => crypto.randomUUID());
        const cases: Array<[string, string, unknown, number, RegExp]> = [
          ['POST', '/api/v1/albums', {}, 400, /name/],
          ['POST', '/api/v1/albums', { name: '   ' }, 400, /name/],
          ['POST', '/api/v1/albums', { name: 'x'.repeat(201) }, 400, /name/],
          ['POST', '/api/v1/albums', { name: 'a', owner: 'me' }, 400, /owner|unrecognized/i],
          ['POST', '/api/v1/albums', { name: 42 }, 400, /name/],
          ['GET', '/api/v1/albums/not-a-uuid', undefined, 400, /id/],
          ['GET', unknownAlbum, undefined, 404, /No album/],
          ['PATCH', a, {}, 400, /changes nothing/],
          ['PATCH', a, { coverImageId: 'nope' }, 400, /coverImageId/],
          ['PATCH', a, { coverImageId: unknownImage }, 400, /not an image of this album/],
          ['PATCH', unknownAlbum, { name: 'x' }, 404, /No album/],
          ['DELETE', '/api/v1/albums/123', undefined, 400, /id/],
          ['POST', `${a}/images`, { imageIds: [] }, 400, /imageIds/],
          ['POST', `${a}/images`, { imageIds: many }, 400, /imageIds/],
          ['POST', `${a}/images`, { imageIds: ['not-a-uuid'] }, 400, /imageIds/],
          [
            'POST',
            `${a}/images`,
            { imageIds: [ids[3], unknownImage] },
            400,
            new RegExp(unknownImage),
          ],
          ['POST', `${a}/images`, { imageIds: at(3), before: ids[4] }, 400, /before/],
          ['POST', `${a}/images`, { imageIds: at(3), before: ids[3] }, 400, /before/],
          ['POST', `${unknownAlbum}/images`, { imageIds: at(3) }, 404, /No album/],
          ['DELETE', `${a}/images`, { imageIds: [unknownImage] }, 400, new RegExp(unknownImage)],
          ['DELETE', `${a}/images`, { imageIds: at(0), before: ids[1] }, 400, /before/],
          ['DELETE', `${unknownAlbum}/images`, { imageIds: at(0) }, 404, /No album/],
          ['PUT', `${a}/order`, { imageIds: at(0, 1) }, 400, new RegExp(`missing ${ids[2]}`)],
          ['PUT', `${a}/order`, { imageIds: at(0, 1, 2, 3) }, 400, /not in the album/],
          ['PUT', `${a}/order`, { imageIds: at(0, 1, 2, 2) }, 400, /repeated/],
          ['PUT', `${a}/order`, { imageIds: 'all' }, 400, /imageIds/],
          ['PUT', `${unknownAlbum}/order`, { imageIds: [] }, 404, /No album/],
        ];
        for (const [method, path, body, status, detail] of cases) {
          const res = await call(method, path, body);
          expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} ${status}`);
          expect(res.headers.get('content-type')).toBe('application/problem+json');
          expect(Problem.parse(await res.json()).detail).toMatch(detail);
        }
        expect(await snapshot()).toEqual(before);
      });
    },
  );
}
