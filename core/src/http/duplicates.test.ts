import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Album, DuplicateGroups, Image, ImageList, Problem, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import sharp from 'sharp';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const PHOTO = 'exif-samples/jpg/gps/DSCN0010.jpg'; // 640×480, EXIF date and GPS
const UNRELATED = [
  'objects/cat.jpg',
  'objects/rose.jpg',
  'exif-samples/jpg/Canon_40D.jpg',
  'exif-samples/jpg/Nikon_D70.jpg',
];

/** The photo and three copies a library really collects: smaller, re-encoded, cropped. */
async function copiesOf(bytes: Buffer): Promise<Record<string, Buffer>> {
  const upright = await sharp(bytes).rotate().toBuffer();
  const { width = 0, height = 0 } = await sharp(upright).metadata();
  const margin = (n: number) => Math.round(n * 0.03);
  return {
    original: bytes,
    // sharp drops the metadata unless asked: the copies have no EXIF date and no GPS.
    resized: await sharp(upright)
      .resize(Math.round(width / 2))
      .jpeg({ quality: 90 })
      .toBuffer(),
    reencoded: await sharp(upright).webp({ quality: 50 }).toBuffer(),
    cropped: await sharp(upright)
      .extract({
        left: margin(width),
        top: margin(height),
        width: width - 2 * margin(width),
        height: height - 2 * margin(height),
      })
      .jpeg({ quality: 85 })
      .toBuffer(),
  };
}

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`near-duplicates on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      const copies: Record<string, Image> = {};
      const unrelated: Image[] = [];
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        const post = async (body: Buffer) => {
          const res = await h.request('/api/v1/images', {
            method: 'POST',
            body: new Uint8Array(body),
          });
          expect(res.status).toBe(201);
          return UploadResult.parse(await res.json()).image;
        };
        const made = await copiesOf(await readFile(join(FIXTURES, PHOTO)));
        for (const [name, bytes] of Object.entries(made)) copies[name] = await post(bytes);
        for (const file of UNRELATED)
          unrelated.push(await post(await readFile(join(FIXTURES, file))));
      }, 30_000);
      afterAll(async () => {
        await h?.stop();
      });

      const json = (method: string, body: unknown): RequestInit => ({
        method,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      const groups = async (query = '') => {
        const res = await h.request(`/api/v1/duplicates${query}`);
        expect(res.status).toBe(200);
        return DuplicateGroups.parse(await res.json()).groups;
      };
      const allIds = async () =>
        ImageList.parse(await (await h.request('/api/v1/images?limit=200')).json())
          .items.map((i) => i.id)
          .sort();
      const keysOf = async (sha256: string) =>
        (await h.blobKeys()).filter((k) => k.includes(sha256));

      test('the photo and its three copies are one group; unrelated photos are in none', async () => {
        const found = await groups();
        expect(found).toHaveLength(1);
        const [group] = found;
        const ids = Object.values(copies).map((i) => i.id);
        expect(group?.images.map((i) => i.id).sort()).toEqual([...ids].sort());
        expect(group?.maxDistance).toBeLessThanOrEqual(6);
        // The one with the most pixels first: the natural one to keep.
        expect([copies.original?.id, copies.reencoded?.id]).toContain(group?.images[0]?.id);
        expect(group?.images.at(-1)?.id).toBe(copies.resized?.id as string);
        // At distance 0 only copies with identical hashes group, and never an unrelated photo.
        const exact = await groups('?maxDistance=0');
        for (const g of exact) {
          expect(g.maxDistance).toBe(0);
          for (const i of g.images) expect(ids).toContain(i.id);
        }
      });

      test('bad queries and resolutions are refused and change nothing', async () => {
        const before = await allIds();
        const keys = await h.blobKeys();
        for (const q of [
          'maxDistance=17',
          'maxDistance=-1',
          'maxDistance=abc',
          'maxDistance=2.5',
        ]) {
          const res = await h.request(`/api/v1/duplicates?${q}`);
          expect(res.status).toBe(400);
          expect(Problem.parse(await res.json()).detail).toMatch(/maxDistance/);
        }
        const keep = copies.original?.id as string;
        const other = copies.resized?.id as string;
        const unknown = crypto.randomUUID();
        for (const [body, detail] of [
          [{ keep, remove: [keep] }, /also in remove/],
          [{ keep, remove: [other, unknown] }, new RegExp(unknown)],
          [{ keep: unknown, remove: [other] }, new RegExp(unknown)],
          [{ keep, remove: [] }, /remove/],
          [{ keep, remove: Array.from({ length: 1001 }, () => crypto.randomUUID()) }, /remove/],
          [{ keep: 'nope', remove: [other] }, /keep/],
          [{ keep, remove: [other], force: true }, /force|unrecognized/i],
          [{ keep }, /remove/],
        ] as const) {
          const res = await h.request('/api/v1/duplicates/resolve', json('POST', body));
          expect(res.status).toBe(400);
          expect(Problem.parse(await res.json()).detail).toMatch(detail);
        }
        expect(await allIds()).toEqual(before);
        expect(await h.blobKeys()).toEqual(keys);
      });

      test('resolving keeps one, deletes the others with their blobs, and merges what they had', async () => {
        const { original, resized, reencoded, cropped } = copies as Record<string, Image>;
        if (!original || !resized || !reencoded || !cropped) throw new Error('uploads missing');
        // Curation done on copies that are about to go: it must survive on the kept image.
        await h.request(
          `/api/v1/images/${reencoded.id}`,
          json('PATCH', { keywords: ['tuscany'], rating: 2 }),
        );
        await h.request(
          `/api/v1/images/${cropped.id}`,
          json('PATCH', { keywords: ['Tuscany', 'Trip'], rating: 5 }),
        );
        await h.request(
          `/api/v1/images/${resized.id}`,
          json('PATCH', { description: 'Near Arezzo' }),
        );
        const album = Album.parse(
          await (await h.request('/api/v1/albums', json('POST', { name: 'Italy' }))).json(),
        );
        await h.request(
          `/api/v1/albums/${album.id}/images`,
          json('POST', { imageIds: [unrelated[0]?.id, cropped.id, unrelated[1]?.id] }),
        );
        await h.request(`/api/v1/albums/${album.id}`, json('PATCH', { coverImageId: cropped.id }));

        // Keep the re-encoded copy: full size, but without the original's EXIF.
        expect(reencoded.takenAt).toBeNull();
        const res = await h.request(
          '/api/v1/duplicates/resolve',
          json('POST', { keep: reencoded.id, remove: [original.id, resized.id, cropped.id] }),
        );
        expect(res.status).toBe(200);
        const kept = Image.parse(await res.json());
        expect(kept).toMatchObject({
          id: reencoded.id,
          keywords: ['tuscany', 'Trip'],
          rating: 5,
          description: 'Near Arezzo',
          takenAt: original.takenAt,
          location: original.location,
        });
        for (const gone of [original, resized, cropped]) {
          expect((await h.request(`/api/v1/images/${gone.id}`)).status).toBe(404);
          expect(await keysOf(gone.sha256)).toEqual([]);
        }
        expect(await keysOf(reencoded.sha256)).toHaveLength(3);
        expect(await allIds()).toEqual([reencoded.id, ...unrelated.map((i) => i.id)].sort());
        // It took the cropped copy's place in the album, and its cover.
        const order = ImageList.parse(
          await (await h.request(`/api/v1/images?album=${album.id}&sort=album`)).json(),
        ).items.map((i) => i.id);
        expect(order).toEqual([unrelated[0]?.id ?? '', reencoded.id, unrelated[1]?.id ?? '']);
        const after = Album.parse(await (await h.request(`/api/v1/albums/${album.id}`)).json());
        expect(after.coverImageId).toBe(reencoded.id);
        expect(await groups()).toEqual([]);
        // Resolving again names images that are gone: refused, nothing changes.
        const again = await h.request(
          '/api/v1/duplicates/resolve',
          json('POST', { keep: reencoded.id, remove: [original.id] }),
        );
        expect(again.status).toBe(400);
      });
    },
  );
}
