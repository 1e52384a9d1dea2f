import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  Album,
  type Image,
  ImageList,
  type ImageTagsComputed,
  makeEvent,
  Problem,
  Subjects,
  UploadResult,
} from '@aex/shared';
import { publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const JPG = 'exif-samples/jpg';
const FILES = {
  canon: `${JPG}/Canon_40D.jpg`, // 2008-05-30, Canon EOS 40D
  nikon: `${JPG}/Nikon_D70.jpg`, // 2008-03-15, NIKON D70
  pentax: `${JPG}/Pentax_K10D.jpg`, // 2008-05-04
  italy: `${JPG}/gps/DSCN0010.jpg`, // 2008-10-22, GPS 43.47 N 11.89 E
  finland: `${JPG}/mobile/HMD_Nokia_8.3_5G.jpg`, // 2022-08-14, GPS 60.15 N 24.91 E
  iphone: `${JPG}/hdr/iphone_hdr_YES.jpg`, // has a lens model
  cat: 'objects/cat.jpg',
  tench: 'objects/tench_n01440764.png',
};
type Name = keyof typeof FILES;

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`image list on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      const img = {} as Record<Name, Image>;

      const json = (method: string, body: unknown): RequestInit => ({
        method,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      const list = async (query: string): Promise<ImageList> => {
        const res = await h.request(`/api/v1/images?${query}`);
        expect(res.status).toBe(200);
        return ImageList.parse(await res.json());
      };
      const ids = async (query: string) => (await list(query)).items.map((i) => i.id);
      const idsOf = (...names: Name[]) => names.map((n) => img[n].id);
      /** Every page of a query, followed with `limit` rows a page. */
      const allPages = async (query: string, limit: number) => {
        const out: string[] = [];
        let cursor: string | null = null;
        do {
          const c: string = cursor ? `&cursor=${cursor}` : '';
          const page = await list(`${query}&limit=${limit}${c}`);
          expect(page.items.length).toBeLessThanOrEqual(limit);
          out.push(...page.items.map((i) => i.id));
          cursor = page.nextCursor;
        } while (cursor);
        return out;
      };
      const expectProblem = async (query: string, status: number, detail: RegExp) => {
        const res = await h.request(`/api/v1/images?${query}`);
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(Problem.parse(await res.json()).detail).toMatch(detail);
      };

      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        for (const [name, file] of Object.entries(FILES)) {
          const res = await h.request('/api/v1/images', {
            method: 'POST',
            body: await readFile(join(FIXTURES, file)),
          });
          expect(res.status).toBe(201);
          img[name as Name] = UploadResult.parse(await res.json()).image;
        }
      }, 30_000);
      afterAll(async () => {
        await h?.stop();
      });

      test('the default order is newest taken first, undated images by upload time', async () => {
        const items = (await list('limit=200')).items;
        expect(items).toHaveLength(Object.keys(FILES).length);
        const sortAt = (i: Image) => i.takenAt ?? i.createdAt;
        const expected = [...items].sort(
          (a, b) => sortAt(b).localeCompare(sortAt(a)) || b.id.localeCompare(a.id),
        );
        expect(items.map((i) => i.id)).toEqual(expected.map((i) => i.id));
        expect(await ids('sort=takenAt&limit=200')).toEqual(expected.map((i) => i.id).reverse());
        const byIdDesc = items.map((i) => i.id).sort((a, b) => b.localeCompare(a));
        // Uploaded one after another, so creation order is id (UUID v7) order.
        expect(await ids('sort=-createdAt&limit=200')).toEqual(byIdDesc);
        expect(await ids('sort=createdAt&limit=200')).toEqual([...byIdDesc].reverse());
      });

      test('every sort pages without gaps or repeats, also across equal keys', async () => {
        // Three photos taken at the same instant: only the id tells them apart.
        for (const name of ['canon', 'nikon', 'pentax'] as const) {
          const res = await h.request(
            `/api/v1/images/${img[name].id}`,
            json('PATCH', { takenAt: '2010-01-01T12:00:00.123456Z' }),
          );
          expect(res.status).toBe(200);
        }
        for (const sort of ['-takenAt', 'takenAt', '-createdAt', 'createdAt']) {
          const whole = await ids(`sort=${sort}&limit=200`);
          for (const limit of [1, 2, 3]) {
            expect(await allPages(`sort=${sort}`, limit)).toEqual(whole);
          }
        }
        const tied = await ids(
          'sort=takenAt&takenAfter=2010-01-01T12:00:00Z&takenBefore=2010-01-02T00:00:00Z',
        );
        expect(tied).toEqual(idsOf('canon', 'nikon', 'pentax').sort());
      });

      test('taken-at range, camera and lens (case-insensitive), format', async () => {
        expect(await ids('takenAfter=2020-01-01T00:00:00Z')).toEqual(idsOf('finland'));
        expect(
          await ids('takenAfter=2008-10-22T00:00:00Z&takenBefore=2008-10-23T00:00:00%2B00:00'),
        ).toEqual(idsOf('italy'));
        // takenAfter is inclusive, takenBefore exclusive.
        const italyAt = encodeURIComponent(img.italy.takenAt ?? '');
        expect(await ids(`takenAfter=${italyAt}&takenBefore=2008-10-23T00:00:00Z`)).toEqual(
          idsOf('italy'),
        );
        expect(await ids(`takenBefore=${italyAt}&takenAfter=2008-10-01T00:00:00Z`)).toEqual([]);
        const model = img.italy.camera?.model ?? '';
        expect(model).not.toBe('');
        expect(await ids(`camera=${encodeURIComponent(model.toLowerCase())}`)).toEqual(
          idsOf('italy'),
        );
        expect(await ids('camera=no%20such%20camera')).toEqual([]);
        const lens = img.iphone.lens;
        expect(lens).not.toBeNull();
        expect(await ids(`lens=${encodeURIComponent((lens ?? '').toUpperCase())}`)).toEqual(
          idsOf('iphone'),
        );
        expect(await ids('format=png')).toEqual(idsOf('tench'));
        expect(await ids('format=PNG')).toEqual(idsOf('tench'));
        expect((await ids('format=jpg&limit=200')).sort()).toEqual(
          Object.values(img)
            .filter((i) => i.format === 'jpeg')
            .map((i) => i.id)
            .sort(),
        );
      });

      test('GPS: has-location, and bounding boxes, one of them across the antimeridian', async () => {
        expect(img.italy.location).not.toBeNull();
        expect(img.finland.location).not.toBeNull();
        const located = Object.values(img).filter((i) => i.location !== null);
        const inBox = (minLon: number, minLat: number, maxLon: number, maxLat: number) =>
          located
            .filter(({ location: l }) => {
              if (!l || l.latitude < minLat || l.latitude > maxLat) return false;
              return minLon <= maxLon
                ? l.longitude >= minLon && l.longitude <= maxLon
                : l.longitude >= minLon || l.longitude <= maxLon;
            })
            .map((i) => i.id)
            .sort();
        const boxed = async (box: [number, number, number, number]) =>
          (await ids(`bbox=${box.join(',')}&limit=200`)).sort();
        expect((await ids('hasGps=true')).sort()).toEqual(located.map((i) => i.id).sort());
        expect((await ids('hasGps=0&limit=200')).sort()).toEqual(
          Object.values(img)
            .filter((i) => i.location === null)
            .map((i) => i.id)
            .sort(),
        );
        expect(await boxed([11, 43, 12, 44])).toEqual(idsOf('italy'));
        expect(await boxed([20, 55, 30, 65])).toEqual(idsOf('finland'));
        // West edge 25°E, east edge 11.9°E: the box wraps the globe through 180°.
        const wrapped = await boxed([25, -90, 11.9, 90]);
        expect(wrapped).toContain(img.italy.id);
        expect(wrapped).not.toContain(img.finland.id);
        expect(wrapped).toEqual(inBox(25, -90, 11.9, 90));
        expect(await boxed([20, -90, 12, 90])).toEqual(inBox(20, -90, 12, 90));
        expect(await boxed([-10, -10, 10, 10])).toEqual(inBox(-10, -10, 10, 10));
      });

      test('tag matches a keyword in any case, or a model label', async () => {
        const res = await h.request(
          `/api/v1/images/${img.canon.id}`,
          json('PATCH', { keywords: ['Holiday', 'Beach'] }),
        );
        expect(res.status).toBe(200);
        expect(await ids('tag=holiday')).toEqual(idsOf('canon'));
        expect(await ids('tag=BEACH')).toEqual(idsOf('canon'));
        await publishEvent(
          h.bus,
          makeEvent<ImageTagsComputed>({
            type: Subjects.imageTagsComputed,
            imageId: img.cat.id,
            model: { id: 'classify-test', version: '1' },
            tags: [{ label: 'Tabby cat', score: 0.9 }],
          }),
        );
        const deadline = Date.now() + 10_000;
        while ((await ids('tag=tabby%20cat')).length === 0 && Date.now() < deadline) {
          await Bun.sleep(50);
        }
        expect(await ids('tag=tabby%20cat')).toEqual(idsOf('cat'));
        expect(await ids('tag=Tabby%20Cat&format=jpeg')).toEqual(idsOf('cat'));
        expect(await ids('tag=tabby')).toEqual([]);
      });

      test('rating, visibility and album filters, combined with the others', async () => {
        for (const [name, rating] of [
          ['nikon', 5],
          ['pentax', 3],
          ['tench', -1],
        ] as const) {
          await h.request(`/api/v1/images/${img[name].id}`, json('PATCH', { rating }));
        }
        await h.request(`/api/v1/images/${img.nikon.id}`, json('PATCH', { visibility: 'public' }));
        expect((await ids('minRating=3')).sort()).toEqual(idsOf('nikon', 'pentax').sort());
        expect(await ids('minRating=4')).toEqual(idsOf('nikon'));
        expect(await ids('visibility=public')).toEqual(idsOf('nikon'));
        expect(await ids('visibility=internal&minRating=3')).toEqual(idsOf('pentax'));
        const created = await h.request('/api/v1/albums', json('POST', { name: 'Trip' }));
        const album = Album.parse(await created.json());
        await h.request(
          `/api/v1/albums/${album.id}/images`,
          json('POST', { imageIds: idsOf('finland', 'italy', 'nikon') }),
        );
        expect((await ids(`album=${album.id}`)).sort()).toEqual(
          idsOf('finland', 'italy', 'nikon').sort(),
        );
        expect(await ids(`album=${album.id}&sort=album`)).toEqual(
          idsOf('finland', 'italy', 'nikon'),
        );
        expect(await allPages(`album=${album.id}&sort=album`, 1)).toEqual(
          idsOf('finland', 'italy', 'nikon'),
        );
        expect(await ids(`album=${album.id}&hasGps=true&sort=album`)).toEqual(
          idsOf('finland', 'italy'),
        );
        expect(await ids(`album=${album.id}&minRating=1`)).toEqual(idsOf('nikon'));
      });

      test('bad queries are refused with a problem, whatever else they ask', async () => {
        await expectProblem('sort=album', 400, /album/);
        await expectProblem(`album=${crypto.randomUUID()}`, 404, /No album/);
        await expectProblem('album=not-a-uuid', 400, /album/);
        await expectProblem('sort=random', 400, /sort/);
        await expectProblem('bbox=0,0,10', 400, /bbox/);
        await expectProblem('bbox=0,91,10,92', 400, /bbox/);
        await expectProblem('bbox=181,0,190,10', 400, /bbox/);
        await expectProblem('bbox=0,20,10,10', 400, /bbox/);
        await expectProblem('bbox=a,b,c,d', 400, /bbox/);
        await expectProblem('limit=0', 400, /limit/);
        await expectProblem('limit=201', 400, /limit/);
        await expectProblem('limit=ten', 400, /limit/);
        await expectProblem('minRating=6', 400, /minRating/);
        await expectProblem('minRating=2.5', 400, /minRating/);
        await expectProblem('visibility=secret', 400, /visibility/);
        await expectProblem('hasGps=maybe', 400, /hasGps/);
        await expectProblem('takenAfter=yesterday', 400, /takenAfter/);
        await expectProblem(`camera=${'x'.repeat(201)}`, 400, /camera/);
      });

      test('forged, foreign and tampered cursors are refused', async () => {
        const page = await list('sort=-takenAt&limit=1');
        const cursor = page.nextCursor ?? '';
        expect(cursor).not.toBe('');
        await expectProblem(`sort=takenAt&cursor=${cursor}`, 400, /made for sort=-takenAt/);
        await expectProblem(`sort=-createdAt&cursor=${cursor}`, 400, /sort/);
        const body = JSON.parse(Buffer.from(cursor, 'base64url').toString());
        const forge = (patch: object) =>
          Buffer.from(JSON.stringify({ ...body, ...patch })).toString('base64url');
        await expectProblem(`cursor=${forge({ k: '2021-02-31T00:00:00.000000Z' })}`, 400, /cursor/);
        await expectProblem(`cursor=${forge({ k: "'; drop table images; --" })}`, 400, /cursor/);
        await expectProblem(`cursor=${forge({ k: 12 })}`, 400, /cursor/);
        await expectProblem(`cursor=${forge({ i: 'not-a-uuid' })}`, 400, /cursor/);
        await expectProblem(`cursor=${forge({ v: 1 })}`, 400, /cursor/);
        await expectProblem('cursor=%%%', 400, /cursor/);
        await expectProblem('cursor=bnVsbA', 400, /cursor/); // "null"
        await expectProblem(`cursor=${'A'.repeat(501)}`, 400, /cursor/);
        const albumCursor = Buffer.from(
          JSON.stringify({ v: 2, s: 'album', k: 'x', i: crypto.randomUUID() }),
        ).toString('base64url');
        const created = await h.request('/api/v1/albums', json('POST', { name: 'Empty' }));
        const album = Album.parse(await created.json());
        await expectProblem(`album=${album.id}&sort=album&cursor=${albumCursor}`, 400, /cursor/);
        // A cursor, once valid, still works: the refusals changed nothing.
        expect((await list(`cursor=${cursor}&limit=200`)).items.length).toBe(
          Object.keys(FILES).length - 1,
        );
      });
    },
  );
}
