import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  AexEvent,
  Album,
  derivedKey,
  type ImageDeleted,
  makeEvent,
  originalKey,
  Problem,
  Subjects,
  UploadResult,
} from '@aex/shared';
import type { Consumer } from '@aex/shared/ports/event-bus/event-bus';
import { publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');

/** Polls `check` until it holds or 10 s pass; returns whether it held. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(50);
  }
  return check();
}

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`image DELETE on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let deletedProbe: Consumer;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        deletedProbe = await h.bus.consumer({
          durable: 'test-deleted-probe',
          subjects: [Subjects.imageDeleted],
        });
      }, 30_000);
      afterAll(async () => {
        await deletedProbe?.close();
        await h?.stop();
      });

      const upload = async (file: string) => {
        const res = await h.request('/api/v1/images', {
          method: 'POST',
          body: await readFile(join(FIXTURES, file)),
        });
        expect(res.status).toBeLessThan(300);
        return UploadResult.parse(await res.json()).image;
      };
      const json = (method: string, body: unknown): RequestInit => ({
        method,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      const keysOf = async (sha256: string) =>
        (await h.blobKeys()).filter((k) => k.includes(sha256));
      /** The next `aex.image.deleted` the probe sees, acked. */
      const nextDeleted = async (): Promise<ImageDeleted> => {
        const [d] = await deletedProbe.fetch(1, 10_000);
        if (!d) throw new Error('no aex.image.deleted event within 10 s');
        await d.ack();
        const event = AexEvent.parse(JSON.parse(new TextDecoder().decode(d.data)));
        if (event.type !== Subjects.imageDeleted) throw new Error(`got ${event.type}`);
        return event;
      };

      test('DELETE removes the row, its album places, its blobs, and publishes the event', async () => {
        const image = await upload('exif-samples/jpg/Canon_40D.jpg');
        const keep = await upload('objects/cat.jpg');
        expect(await keysOf(image.sha256)).toHaveLength(3);
        const album = Album.parse(
          await (await h.request('/api/v1/albums', json('POST', { name: 'Doomed cover' }))).json(),
        );
        await h.request(
          `/api/v1/albums/${album.id}/images`,
          json('POST', { imageIds: [image.id, keep.id] }),
        );
        const covered = await h.request(
          `/api/v1/albums/${album.id}`,
          json('PATCH', { coverImageId: image.id }),
        );
        expect(Album.parse(await covered.json()).coverImageId).toBe(image.id);

        const res = await h.request(`/api/v1/images/${image.id}`, { method: 'DELETE' });
        expect(res.status).toBe(204);
        expect(await res.text()).toBe('');
        expect(await keysOf(image.sha256)).toEqual([]);
        expect((await h.request(`/api/v1/images/${image.id}`)).status).toBe(404);
        expect((await h.request(`/api/v1/images/${image.id}/original`)).status).toBe(404);
        const after = Album.parse(await (await h.request(`/api/v1/albums/${album.id}`)).json());
        expect(after).toMatchObject({ imageCount: 1, coverImageId: null });
        expect(await nextDeleted()).toMatchObject({
          type: Subjects.imageDeleted,
          imageId: image.id,
          sha256: image.sha256,
        });
        const again = await h.request(`/api/v1/images/${image.id}`, { method: 'DELETE' });
        expect(again.status).toBe(404);
        expect(Problem.parse(await again.json()).code).toBe('not_found');
        // The other image and its blobs are untouched.
        expect(await keysOf(keep.sha256)).toHaveLength(3);
      });

      test('blobs orphaned by a crash after the commit are removed from the event', async () => {
        // As if core died between the commit and the removal: the blobs are there, the row
        // is gone, and the outbox event is all that is left to act on.
        const sha256 = Array.from(
          { length: 64 },
          () => '0123456789abcdef'[Math.floor(Math.random() * 16)],
        ).join('');
        const keys = [
          originalKey(sha256),
          derivedKey(sha256, 'thumb'),
          derivedKey(sha256, 'preview'),
          `derived/${sha256}/poster.webp`,
        ];
        for (const key of keys) await h.blobs.put(key, new Uint8Array([1, 2, 3]));
        expect(await keysOf(sha256)).toHaveLength(4);
        await publishEvent(
          h.bus,
          makeEvent<ImageDeleted>({
            type: Subjects.imageDeleted,
            imageId: crypto.randomUUID(),
            sha256,
          }),
        );
        expect(await eventually(async () => (await keysOf(sha256)).length === 0)).toBe(true);
        await nextDeleted();
      });

      test('a blob store down during DELETE: 204, and the blobs go once it is back', async () => {
        const image = await upload('exif-samples/jpg/Pentax_K10D.jpg');
        const blobs = h.blobs as { delete: (key: string) => Promise<void> };
        const realDelete = blobs.delete;
        blobs.delete = async () => {
          throw new Error('blob store unreachable');
        };
        try {
          const res = await h.request(`/api/v1/images/${image.id}`, { method: 'DELETE' });
          expect(res.status).toBe(204);
          expect(await keysOf(image.sha256)).toHaveLength(3);
          expect((await h.request(`/api/v1/images/${image.id}`)).status).toBe(404);
        } finally {
          blobs.delete = realDelete;
        }
        // The consumer of aex.image.deleted retries (with backoff) until the removal works.
        expect(await eventually(async () => (await keysOf(image.sha256)).length === 0)).toBe(true);
        expect((await nextDeleted()).imageId).toBe(image.id);
      });

      test('the same bytes uploaded again after a delete keep their blobs', async () => {
        const first = await upload('objects/rose.jpg');
        expect((await h.request(`/api/v1/images/${first.id}`, { method: 'DELETE' })).status).toBe(
          204,
        );
        await nextDeleted();
        const second = await upload('objects/rose.jpg');
        expect(second.id).not.toBe(first.id);
        // A late redelivery of the old event must not take the new image's blobs.
        await publishEvent(
          h.bus,
          makeEvent<ImageDeleted>({
            type: Subjects.imageDeleted,
            imageId: first.id,
            sha256: first.sha256,
          }),
        );
        await nextDeleted();
        await Bun.sleep(300);
        expect(await keysOf(second.sha256)).toHaveLength(3);
        const original = await h.request(`/api/v1/images/${second.id}/original`);
        expect(original.status).toBe(200);
        expect((await original.arrayBuffer()).byteLength).toBe(second.byteSize);
      });

      test('bad DELETEs are refused and change nothing', async () => {
        const image = await upload('exif-samples/jpg/Nikon_D70.jpg');
        const keys = await h.blobKeys();
        for (const [path, status] of [
          ['/api/v1/images/not-a-uuid', 400],
          ['/api/v1/images/00000000-0000-0000-0000-00000000000g', 400],
          [`/api/v1/images/${crypto.randomUUID()}`, 404],
        ] as const) {
          const res = await h.request(path, { method: 'DELETE' });
          expect(res.status).toBe(status);
          expect(res.headers.get('content-type')).toBe('application/problem+json');
        }
        expect(await h.blobKeys()).toEqual(keys);
        expect((await h.request(`/api/v1/images/${image.id}`)).status).toBe(200);
      });
    },
  );
}
