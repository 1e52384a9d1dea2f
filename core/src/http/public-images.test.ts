import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { PublicImage, PublicSearchResults } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';
import { eventually, resultPublisher, unit } from '../testing/result-events.ts';
import { freshImage, type StoredImage } from '../testing/route-matrix-fixtures.ts';

// Anonymous clients see public images only, with their public fields only (issue 5).

const OCR = { id: 'ocr-public-test', version: '1' };
const CLIP = { id: 'clip-public-test', version: '1' };

for (const set of ADAPTER_SETS) {
  // Vectors: pgvector in PGlite; the test Postgres has no pgvector extension.
  const vectors = set.kind === 'embedded';
  describe.skipIf(!set.available)(
    suiteName(`public images on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let open: StoredImage;
      let alsoOpen: StoredImage;
      let closed: StoredImage;
      const anonymous = (path: string) => h.as('anonymous').request(path);
      const publicHits = async (query: string) => {
        const res = await anonymous(`/api/v1/public/search?${query}`);
        expect(res.status).toBe(200);
        return PublicSearchResults.parse(await res.json()).items.map((i) => i.image.id);
      };

      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        [open, alsoOpen, closed] = [
          await freshImage(h, 'public'),
          await freshImage(h, 'public'),
          await freshImage(h, 'internal'),
        ];
        // A location and keywords on the public image: neither may reach the public.
        await h.request(`/api/v1/images/${open.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ keywords: ['family'], description: 'Harbour' }),
        });
        const publish = resultPublisher(h);
        for (const image of [open, alsoOpen, closed])
          await publish.text(image.id, OCR, ['harbour view']);
        if (vectors) {
          // The internal image is the nearest to `open`; `alsoOpen` the farthest.
          await publish.embedding(open.id, CLIP, unit(1, 0, 0));
          await publish.embedding(closed.id, CLIP, unit(0.9, 0.1, 0));
          await publish.embedding(alsoOpen.id, CLIP, unit(0, 1, 0));
        }
        const ready = async () => {
          const res = await h.request('/api/v1/search?text=harbour');
          return ((await res.json()) as { items?: unknown[] }).items?.length === 3;
        };
        expect(await eventually(ready)).toBe(true);
        if (vectors) {
          const embedded = async () =>
            (await h.request(`/api/v1/search?similarTo=${open.id}`)).status === 200;
          expect(await eventually(embedded)).toBe(true);
        }
      }, 60_000);
      afterAll(async () => {
        await h?.stop();
      });

      test('text search: the public images only, with their public fields only', async () => {
        expect((await publicHits('text=harbour')).sort()).toEqual([open.id, alsoOpen.id].sort());
        const res = await anonymous('/api/v1/public/search?text=harbour');
        expect(res.headers.get('cache-control')).toBe('public, max-age=60');
        const body = (await res.json()) as { items: Array<{ image: Record<string, unknown> }> };
        const image = body.items.find((i) => i.image.id === open.id)?.image;
        expect(Object.keys(image ?? {}).sort()).toEqual(Object.keys(PublicImage.shape).sort());
        expect(image).toMatchObject({
          description: 'Harbour',
          urls: { thumb: `/t/${open.sha256}/thumb` },
        });
        expect(JSON.stringify(body)).not.toContain('family');
        // A signed-in reader searching the library sees the internal one too.
        const library = await h.as('reader').request('/api/v1/search?text=harbour');
        expect(((await library.json()) as { items: unknown[] }).items).toHaveLength(3);
      });

      test.skipIf(!vectors)(
        suiteName(
          'similarTo leaves the internal images out, even the nearest',
          vectors,
          'pgvector',
        ),
        async () => {
          expect(await publicHits(`similarTo=${open.id}`)).toEqual([alsoOpen.id]);
          expect(await publicHits(`similarTo=${open.id}&text=harbour`)).toEqual([alsoOpen.id]);
        },
      );

      test('an internal image is "not found" to public search, as an unknown one is', async () => {
        for (const id of [closed.id, crypto.randomUUID()]) {
          const res = await anonymous(`/api/v1/public/search?similarTo=${id}`);
          expect(res.status).toBe(vectors ? 404 : 503);
          expect(await res.text()).not.toContain(closed.sha256);
        }
      });

      test('by-sha: 200 for a public image, the same 404 for internal and unknown ones', async () => {
        const yes = await anonymous(`/api/v1/public/images/by-sha/${open.sha256}`);
        expect(yes.status).toBe(200);
        expect(await yes.json()).toEqual({ public: true });
        expect(yes.headers.get('cache-control')).toBe('public, max-age=60');
        const unknown = 'f'.repeat(64);
        for (const sha of [closed.sha256, unknown]) {
          const no = await anonymous(`/api/v1/public/images/by-sha/${sha}`);
          expect(no.status).toBe(404);
          expect(no.headers.get('cache-control')).toBe('public, max-age=10');
          expect(await no.text()).not.toContain(sha);
        }
      });

      test.each([
        ['a short sum', `/api/v1/public/images/by-sha/${'a'.repeat(10)}`],
        ['upper case', `/api/v1/public/images/by-sha/${'A'.repeat(64)}`],
        ['a path in it', '/api/v1/public/images/by-sha/..%2F..%2Fetc%2Fpasswd'],
        ['no query', '/api/v1/public/search'],
        ['a huge limit', '/api/v1/public/search?text=x&limit=100000'],
        ['q and similarTo', `/api/v1/public/search?q=x&similarTo=${crypto.randomUUID()}`],
        ['text too long', `/api/v1/public/search?text=${'w'.repeat(201)}`],
      ])('%s is a 400', async (_name, path) => {
        const res = await anonymous(path);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      });

      test('an image made internal again leaves public search and by-sha at once', async () => {
        const image = await freshImage(h, 'public');
        await resultPublisher(h).text(image.id, OCR, ['lighthouse']);
        expect(
          await eventually(async () => (await publicHits('text=lighthouse')).length === 1),
        ).toBe(true);
        const res = await h.as('editor').request(`/api/v1/images/${image.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ visibility: 'internal' }),
        });
        expect(res.status).toBe(200);
        expect(await publicHits('text=lighthouse')).toEqual([]);
        expect((await anonymous(`/api/v1/public/images/by-sha/${image.sha256}`)).status).toBe(404);
      });
    },
  );
}
