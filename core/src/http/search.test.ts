import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  Problem,
  RequestSubjects,
  SearchResults,
  type TextEmbedReply,
  TextEmbedRequest,
} from '@aex/shared';
import type { RpcResponder } from '@aex/shared/ports/rpc/rpc';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';
import { eventually, resultPublisher, unit, uploadImages } from '../testing/result-events.ts';

// Search through the HTTP API, with a text-embedding responder registered on the harness's
// real request/reply adapter, answering known vectors for known texts (no CLIP weights here).
// Vectors need pgvector: the embedded adapters (PGlite) have it; this machine's Postgres does
// not, so there search by meaning must answer 503 and text search still work.

const CLIP = { id: 'clip-vit-b32-openai', version: 'immich-openai' };
const CLIP2 = { id: 'clip-vit-b32-openai', version: 'next' };
const OCR = { id: 'ocr-ppocrv4-rec', version: 'v4' };
const QUERIES: Record<string, number[]> = {
  'red car': [1, 0, 0, 0],
  'green field': [0, 1, 0, 0],
  anti: [-1, 0, 0, 0],
  'other model': [1, 0, 0, 0],
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A worker's text-embed responder that answers from QUERIES and records what it was asked. */
async function startResponder(h: CoreHarness) {
  const asked: string[] = [];
  const responder: RpcResponder = await h.rpc.respond(
    RequestSubjects.textEmbed,
    async (payload) => {
      const request = TextEmbedRequest.parse(JSON.parse(decoder.decode(payload)));
      asked.push(request.text);
      if (request.text === 'slow') await Bun.sleep(1500);
      const model =
        request.text === 'other model' ? { ...CLIP, version: 'old' } : (request.model ?? CLIP);
      const vector = QUERIES[request.text];
      const reply: TextEmbedReply = vector
        ? { ok: true, model, vector }
        : { ok: false, error: `cannot embed ${JSON.stringify(request.text)}` };
      return encoder.encode(JSON.stringify(reply));
    },
    { queue: 'test-clip' },
  );
  return { asked, stop: () => responder.stop() };
}

for (const set of ADAPTER_SETS) {
  const vectors = set.kind === 'embedded';
  describe.skipIf(!set.available)(
    suiteName(`search on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let img: string[];
      let worker: Awaited<ReturnType<typeof startResponder>>;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind, { AEX_SEARCH_TIMEOUT: '300ms' });
        worker = await startResponder(h);
        img = await uploadImages(h, 5);
      }, 30_000);
      afterAll(async () => {
        await worker?.stop();
        await h?.stop();
      });

      const search = async (query: string) => {
        const res = await h.request(`/api/v1/search?${query}`);
        if (res.status !== 200) {
          return {
            status: res.status,
            problem: Problem.parse(await res.json()),
            headers: res.headers,
          };
        }
        const body = SearchResults.parse(await res.json());
        return {
          status: 200,
          body,
          hits: body.items.map((i) => [img.indexOf(i.image.id), i.score] as [number, number]),
        };
      };
      const hits = async (query: string) => (await search(query)).hits ?? [];
      // Typed as hits are, so toEqual takes the asymmetric matchers in place of scores.
      const near = (expected: Array<[number, number]>) =>
        expected.map(([i, s]): [number, number] => [i, expect.closeTo(s, 5)]);

      test('before any model has results, search says what is missing (409)', async () => {
        expect(await search('q=red%20car')).toMatchObject({
          status: vectors ? 409 : 503,
          problem: {
            detail: expect.stringMatching(
              vectors ? /No image has a CLIP embedding/ : /unavailable on this deployment/,
            ),
          },
        });
        expect(await search('text=stop')).toMatchObject({
          status: 409,
          problem: { detail: expect.stringContaining('text read') },
        });
      });

      test('text finds images by the words read in them, alone or narrowing a search by meaning', async () => {
        const publish = resultPublisher(h);
        await publish.text(img[1] as string, OCR, ['STOP sign ahead']);
        await publish.text(img[2] as string, OCR, ['bus stop', 'Line 7']);
        expect(await eventually(async () => (await hits('text=stop')).length === 2)).toBe(true);
        const alone = await search('text=STOP');
        expect(alone.body?.model).toEqual(OCR);
        expect(alone.hits?.map(([i]) => i).sort()).toEqual([1, 2]);
        for (const [, score] of alone.hits ?? []) {
          expect(score).toBeGreaterThan(0);
          expect(score).toBeLessThanOrEqual(1);
        }
        expect(await hits('text=sign')).toEqual([[1, expect.any(Number)]]);
        expect(await hits('text=%22bus%20stop%22')).toEqual([[2, expect.any(Number)]]);
        expect(await hits('text=zebra')).toEqual([]);
        expect(await hits('text=stop&limit=1')).toHaveLength(1);
      });

      test.skipIf(vectors)(
        'without a vector store, search by meaning answers 503 and says why',
        async () => {
          const res = await search('q=red%20car');
          expect(res.status).toBe(503);
          expect(res.problem?.detail).toContain('no pgvector extension');
          expect((await search(`similarTo=${img[0]}`)).status).toBe(503);
        },
      );

      test.skipIf(!vectors)(
        'q ranks images by cosine similarity, with a score per hit',
        async () => {
          const publish = resultPublisher(h);
          const embeddings = [
            unit(1, 0, 0, 0),
            unit(0.8, 0.6, 0, 0),
            unit(0, 1, 0, 0),
            unit(-1, 0, 0, 0),
          ];
          for (const [i, v] of embeddings.entries())
            await publish.embedding(img[i] as string, CLIP, v);
          expect(await eventually(async () => (await hits('q=red%20car')).length === 4)).toBe(true);
          const red = await search('q=red%20car');
          expect(red.body?.model).toEqual(CLIP);
          expect(red.hits).toEqual(
            near([
              [0, 1],
              [1, 0.8],
              [2, 0],
              [3, -1],
            ]),
          );
          expect(red.body?.items[0]?.image).toMatchObject({ id: img[0], faces: [], text: [] });
          expect((await hits('q=green%20field')).slice(0, 2)).toEqual(
            near([
              [2, 1],
              [1, 0.6],
            ]),
          );
          expect(await hits('q=red%20car&minScore=0.5')).toEqual(
            near([
              [0, 1],
              [1, 0.8],
            ]),
          );
          expect(await hits('q=red%20car&limit=1')).toEqual(near([[0, 1]]));
          expect(await hits('q=red%20car&text=stop')).toEqual(
            near([
              [1, 0.8],
              [2, 0],
            ]),
          );
        },
      );

      test.skipIf(!vectors)('a repeated query is answered from the cache', async () => {
        const before = worker.asked.length;
        expect(await hits('q=Red%20%20CAR%20')).toHaveLength(4);
        expect(await hits('q=red%20car&limit=2')).toHaveLength(2);
        expect(worker.asked.length).toBe(before);
        expect(await hits('q=Green%20Field')).toHaveLength(4);
        expect(worker.asked.slice(before)).toEqual([]);
        await hits('q=anti');
        expect(worker.asked.slice(before)).toEqual(['anti']);
      });

      test.skipIf(!vectors)(
        'similarTo ranks the others by likeness to the image, leaving it out',
        async () => {
          expect(await hits(`similarTo=${img[1]}`)).toEqual(
            near([
              [0, 0.8],
              [2, 0.6],
              [3, -0.8],
            ]),
          );
          expect(await hits(`similarTo=${img[1]}&limit=1`)).toEqual(near([[0, 0.8]]));
          expect(await hits(`similarTo=${img[1]}&text=stop`)).toEqual(near([[2, 0.6]]));
          const none = await search(`similarTo=${img[4]}`);
          expect(none).toMatchObject({
            status: 409,
            problem: { detail: expect.stringContaining('no embedding') },
          });
          const unknown = await search(`similarTo=${crypto.randomUUID()}`);
          expect(unknown).toMatchObject({
            status: 404,
            problem: { detail: expect.stringContaining('No image') },
          });
        },
      );

      test.skipIf(!vectors)(
        'slow, failing, mismatched or absent workers give 503 with Retry-After',
        async () => {
          const started = performance.now();
          const slow = await search('q=slow');
          expect(slow.status).toBe(503);
          expect(slow.headers?.get('retry-after')).toBe('5');
          expect(slow.problem?.detail).toContain('within 300 ms');
          expect(performance.now() - started).toBeLessThan(1200);
          expect(await search('q=unknown%20words')).toMatchObject({
            status: 503,
            problem: { detail: expect.stringContaining('could not embed') },
          });
          expect(await search('q=other%20model')).toMatchObject({
            status: 503,
            problem: { detail: expect.stringContaining('the workers run clip-vit-b32-openai@old') },
          });
          await worker.stop();
          try {
            const nobody = await search('q=nobody%20listens');
            expect(nobody).toMatchObject({
              status: 503,
              problem: { detail: expect.stringContaining('no worker runs') },
            });
            expect(nobody.headers?.get('retry-after')).toBe('5');
            // Cached embeddings still answer without a worker.
            expect(await hits('q=red%20car')).toHaveLength(4);
          } finally {
            worker = await startResponder(h);
          }
        },
      );

      test.skipIf(!vectors)(
        'search uses the active CLIP version; activating another switches it',
        async () => {
          await resultPublisher(h).embedding(img[0] as string, CLIP2, unit(0, 0, 1, 0));
          const models = async () =>
            (await (await h.request('/api/v1/admin/models')).json()) as {
              tasks: Array<{ task: string; versions: Array<{ model: { version: string } }> }>;
            };
          expect(
            await eventually(async () =>
              Boolean(
                (await models()).tasks
                  .find((t) => t.task === 'clip')
                  ?.versions.some((v) => v.model.version === 'next'),
              ),
            ),
          ).toBe(true);
          expect((await search('q=red%20car')).body?.model).toEqual(CLIP);
          const activate = (model: typeof CLIP) =>
            h.request('/api/v1/admin/models/activate', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ task: 'clip', model, force: true }),
            });
          expect((await activate(CLIP2)).status).toBe(200);
          const switched = await search('q=red%20car');
          expect(switched.body?.model).toEqual(CLIP2);
          expect(switched.hits).toEqual(near([[0, 0]]));
          expect((await activate(CLIP)).status).toBe(200);
          expect(await hits('q=red%20car&limit=1')).toEqual(near([[0, 1]]));
        },
      );

      test.skipIf(!vectors)("a deleted image's vector leaves the index", async () => {
        expect(await hits('q=anti&limit=1')).toEqual(near([[3, 1]]));
        expect((await h.request(`/api/v1/images/${img[3]}`, { method: 'DELETE' })).status).toBe(
          204,
        );
        // Were its vector left behind, the top hit would be the deleted image and none would show.
        expect(
          await eventually(async () => {
            const top = await hits('q=anti&limit=1');
            return top.length === 1 && top[0]?.[0] === 2;
          }),
        ).toBe(true);
        expect(await hits('q=anti&limit=1')).toEqual(near([[2, 0]]));
      });

      test('bad input is refused with a problem', async () => {
        const cases: Array<[string, number]> = [
          ['q=', 400],
          ['q=%20%20', 400],
          [`q=${'a'.repeat(1001)}`, 400],
          [`q=red&similarTo=${img[0]}`, 400],
          ['', 400],
          ['limit=5', 400],
          ['similarTo=not-a-uuid', 400],
          ['q=red%20car&limit=0', 400],
          ['q=red%20car&limit=201', 400],
          ['q=red%20car&minScore=2', 400],
          ['q=red%20car&minScore=high', 400],
          [`text=${'w'.repeat(201)}`, 400],
        ];
        for (const [query, status] of cases) {
          const res = await search(query);
          expect([query, res.status]).toEqual([query, status]);
          expect(res.problem?.code).toBe('invalid_input');
        }
      });
    },
  );
}
