import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type DetectedFace, type ModelRef, newId } from '@aex/shared';
import { silentLogger } from '@aex/shared/ports/log';
import { postgresReachable, randomToken, suiteName } from '@aex/shared/testing/servers';
import { asc, eq } from 'drizzle-orm';
import { ImageRepository } from '../../db/image-repository.ts';
import { ResultsRepository } from '../../db/results-repository.ts';
import {
  imageFaces,
  imageResults,
  imageTags,
  imageTextLines,
  taskModels,
} from '../../db/schema.ts';
import {
  createPgliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../db/testing.ts';
import { face, minimalImageRow, resultEvents, unit } from '../../testing/result-events.ts';
import { applyTagsComputed } from '../apply-tags.ts';
import {
  applyEmbeddingComputed,
  applyFacesDetected,
  applyTextRecognized,
  type ResultDeps,
} from './apply-results.ts';
import { openResultVectors } from './open-vectors.ts';
import { faceId, type ResultVectors } from './result-vectors.ts';

// Whether the Postgres stores vectors is known only by asking it (as in pgvector.test.ts).
let postgresHasPgvector = false;
if (postgresReachable) {
  const probe = await createPostgresTestDatabase();
  try {
    postgresHasPgvector = await probe.database.hasPgvector();
  } finally {
    await probe.drop();
  }
}

// The result consumers' logic against real databases: PGlite (with pgvector, so vectors are
// stored) and, where reachable, Postgres (rows only where it lacks pgvector).
const DATABASES = [
  { name: 'PGlite', available: true, vectors: true, make: createPgliteTestDatabase },
  {
    name: 'Postgres',
    available: postgresReachable,
    vectors: postgresHasPgvector,
    make: createPostgresTestDatabase,
  },
];

for (const db of DATABASES) {
  describe.skipIf(!db.available)(
    suiteName(`result consumers on ${db.name}`, db.available, db.name),
    () => {
      let t: TestDatabase;
      let deps: ResultDeps;
      let images: ImageRepository;
      let closeVectors: () => Promise<void>;
      beforeAll(async () => {
        t = await db.make();
        images = new ImageRepository(t.database.db);
        const opened = await openResultVectors({}, t.database, silentLogger());
        closeVectors = opened.close;
        deps = { results: new ResultsRepository(t.database.db), vectors: opened.vectors };
        // Vectors are stored exactly where pgvector is: not silently dropped, not faked.
        expect(opened.vectors !== null).toBe(db.vectors);
      }, 30_000);
      afterAll(async () => {
        await closeVectors?.();
        await t?.drop();
      });

      const model = (version = '1'): ModelRef => ({ id: `m-${randomToken(6)}`, version });
      const newImage = async () => {
        const row = minimalImageRow();
        await images.insertWithEvents(row, []);
        return row.id;
      };
      const rowsOf = async (imageId: string) => {
        const d = t.database.db;
        return {
          tags: await d
            .select()
            .from(imageTags)
            .where(eq(imageTags.imageId, imageId))
            .orderBy(asc(imageTags.label)),
          faces: await d
            .select()
            .from(imageFaces)
            .where(eq(imageFaces.imageId, imageId))
            .orderBy(asc(imageFaces.id)),
          text: await d
            .select()
            .from(imageTextLines)
            .where(eq(imageTextLines.imageId, imageId))
            .orderBy(asc(imageTextLines.modelVersion), asc(imageTextLines.lineNo)),
          results: await d
            .select()
            .from(imageResults)
            .where(eq(imageResults.imageId, imageId))
            .orderBy(asc(imageResults.task), asc(imageResults.modelVersion)),
        };
      };
      const vectorIds = async (vectors: ResultVectors, m: ModelRef, query: number[]) => {
        const c = await vectors.existing(m);
        return c ? (await c.search(query, { k: 100 })).map((h) => h.id).sort() : [];
      };
      // Results of one version are ordered by when they were computed: `s` seconds in.
      const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
      const tagsEvent = (id: string, m: ModelRef, labels: string[], s = 0) =>
        resultEvents.tags(id, m, labels, at(s));
      const facesEvent = (id: string, m: ModelRef, faces: DetectedFace[], s = 0) =>
        resultEvents.faces(id, m, faces, at(s));
      const textEvent = (id: string, m: ModelRef, lines: string[], s = 0) =>
        resultEvents.text(id, m, lines, at(s));
      const embeddingEvent = (id: string, m: ModelRef, vector: number[], s = 0) =>
        resultEvents.embedding(id, m, vector, at(s));

      test('tags: the same result twice leaves the same rows; versions sit side by side; late old results are stale', async () => {
        const id = await newImage();
        const [v1, v2] = [model('1'), model('2')];
        const first = tagsEvent(id, v1, ['cat', 'sofa']);
        expect(await applyTagsComputed(deps.results, first)).toEqual({ status: 'success' });
        const once = await rowsOf(id);
        // Again, as a redelivery, and as a re-publication under another event id.
        expect(await applyTagsComputed(deps.results, first)).toEqual({ status: 'success' });
        expect(await applyTagsComputed(deps.results, { ...first, id: newId() })).toEqual({
          status: 'success',
        });
        expect(await rowsOf(id)).toEqual(once);
        expect(once.tags.map((r) => r.label)).toEqual(['cat', 'sofa']);
        expect(once.results).toEqual([
          {
            imageId: id,
            task: 'tags',
            modelId: v1.id,
            modelVersion: '1',
            computedAt: at(0),
            faceVectorBound: null,
          },
        ]);
        await applyTagsComputed(deps.results, tagsEvent(id, v2, ['kitten'], 5));
        await applyTagsComputed(deps.results, tagsEvent(id, v1, ['dog'], 9));
        const later = await rowsOf(id);
        expect(later.tags.map((r) => `${r.modelVersion}:${r.label}`)).toEqual([
          '1:dog',
          '2:kitten',
        ]);
        // An older computation of v1 delivered late does not undo the newer one.
        expect(await applyTagsComputed(deps.results, tagsEvent(id, v1, ['cow'], 3))).toMatchObject({
          status: 'skipped',
          reason: expect.stringContaining('newer result'),
        });
        expect(await rowsOf(id)).toEqual(later);
      });

      test('faces: twice gives the same rows and vectors; a new result replaces that version only', async () => {
        const id = await newImage();
        const [v1, v2] = [model('1'), model('2')];
        const three = [
          face(0.1, unit(1, 0, 0)),
          face(0.4, unit(0, 1, 0)),
          face(0.7, unit(0, 0, 1)),
        ];
        const first = facesEvent(id, v1, three);
        expect(await applyFacesDetected(deps, first)).toEqual({ status: 'success' });
        const once = await rowsOf(id);
        expect(await applyFacesDetected(deps, first)).toEqual({ status: 'success' });
        expect(await rowsOf(id)).toEqual(once);
        expect(once.faces.map((f) => f.id).sort()).toEqual(
          [0, 1, 2].map((i) => faceId(id, v1, i)).sort(),
        );
        const f0 = once.faces.find((f) => f.id === faceId(id, v1, 0));
        expect(f0).toMatchObject({
          x: expect.closeTo(0.1, 5),
          detectorId: 'face-detect-yunet',
          landmarks: three[0]?.landmarks,
        });
        await applyFacesDetected(deps, facesEvent(id, v2, [face(0.2, unit(1, 1, 0))], 1));
        await applyFacesDetected(deps, facesEvent(id, v1, [face(0.5, unit(1, 0, 1))], 2));
        const replaced = await rowsOf(id);
        expect(replaced.faces.map((f) => [f.modelVersion, f.id])).toEqual(
          [
            ['1', faceId(id, v1, 0)],
            ['2', faceId(id, v2, 0)],
          ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
        );
        expect(replaced.faces.find((f) => f.modelVersion === '1')?.x).toBeCloseTo(0.5, 5);
        const { vectors } = deps;
        if (!vectors) return; // Postgres without pgvector: rows only.
        expect(await vectorIds(vectors, v1, [1, 0, 0])).toEqual([faceId(id, v1, 0)]);
        expect(await vectorIds(vectors, v2, [1, 0, 0])).toEqual([faceId(id, v2, 0)]);
        const [hit] = (await (await vectors.existing(v1))?.search([1, 0, 1], { k: 1 })) ?? [];
        expect(hit?.score).toBeCloseTo(1, 5);
      });

      test('text: twice gives the same lines; a new result replaces that version only', async () => {
        const id = await newImage();
        const [v1, v2] = [model('1'), model('2')];
        const first = textEvent(id, v1, ['STOP', 'no parking']);
        expect(await applyTextRecognized(deps, first)).toEqual({ status: 'success' });
        const once = await rowsOf(id);
        expect(await applyTextRecognized(deps, first)).toEqual({ status: 'success' });
        expect(await rowsOf(id)).toEqual(once);
        await applyTextRecognized(deps, textEvent(id, v2, ['STOP sign'], 1));
        await applyTextRecognized(deps, textEvent(id, v1, ['exit'], 2));
        const after = await rowsOf(id);
        expect(after.text.map((l) => [l.modelVersion, l.lineNo, l.text])).toEqual([
          ['1', 0, 'exit'],
          ['2', 0, 'STOP sign'],
        ]);
        expect(after.text[0]?.polygon).toHaveLength(4);
      });

      test('embeddings: one vector per image and version, and a coverage row; none without a vector store', async () => {
        const id = await newImage();
        const v1 = model('1');
        const event = embeddingEvent(id, v1, unit(1, 2, 3, 4));
        const outcome = await applyEmbeddingComputed(deps, event);
        const { vectors } = deps;
        if (!vectors) {
          expect(outcome).toMatchObject({
            status: 'skipped',
            reason: expect.stringContaining('no vector store'),
          });
          expect((await rowsOf(id)).results).toEqual([]);
          return;
        }
        expect(outcome).toEqual({ status: 'success' });
        expect(await applyEmbeddingComputed(deps, event)).toEqual({ status: 'success' });
        expect(await vectorIds(vectors, v1, [1, 0, 0, 0])).toEqual([id]);
        expect((await rowsOf(id)).results.map((r) => r.task)).toEqual(['clip']);
        expect(Array.from((await vectors.read(v1, id)) ?? [])).toEqual(
          unit(1, 2, 3, 4).map((x) => expect.closeTo(x, 6)),
        );
        // Another dimension for the same version can never be stored: dead-lettered.
        const other = await newImage();
        expect(
          await applyEmbeddingComputed(deps, embeddingEvent(other, v1, unit(1, 1))),
        ).toMatchObject({
          status: 'failed',
          reason: expect.stringContaining('4-d'),
        });
      });

      test('an image deleted before its result arrives: every result is skipped, nothing is stored', async () => {
        const id = newId();
        const m = model();
        const outcomes = [
          await applyTagsComputed(deps.results, tagsEvent(id, m, ['x'])),
          await applyFacesDetected(deps, facesEvent(id, m, [face(0.1, unit(1, 0))])),
          await applyTextRecognized(deps, textEvent(id, m, ['x'])),
          await applyEmbeddingComputed(deps, embeddingEvent(id, m, unit(1, 0))),
        ];
        for (const outcome of outcomes) {
          expect(outcome).toMatchObject({ status: 'skipped' });
        }
        if (deps.vectors) {
          expect(outcomes[3]).toMatchObject({
            reason: expect.stringContaining('no longer exists'),
          });
          expect(await vectorIds(deps.vectors, m, [1, 0])).toEqual([]);
        }
        expect(await rowsOf(id)).toEqual({ tags: [], faces: [], text: [], results: [] });
      });

      test.skipIf(!db.vectors)(
        'faces: a crash between the rows and the vectors leaves no stale vector behind',
        async () => {
          const vectors = deps.vectors as ResultVectors;
          const id = await newImage();
          const v1 = model('1');
          const faces = [face(0.1, unit(1, 0)), face(0.4, unit(0, 1)), face(0.7, unit(1, 1))];
          await applyFacesDetected(deps, facesEvent(id, v1, faces));
          const ids = (n: number) => [...Array(n).keys()].map((i) => faceId(id, v1, i)).sort();
          expect(await vectorIds(vectors, v1, [1, 0])).toEqual(ids(3));
          // A worker's result of one face whose rows were written before the process died: the
          // vectors of faces 1 and 2 are still there, and the rows no longer list them.
          const only = face(0.2, unit(1, 0));
          const crashed = await deps.results.replaceFaces(
            id,
            v1,
            { id: 'face-detect-yunet', version: '2026may' },
            [
              {
                id: faceId(id, v1, 0),
                box: only.box,
                landmarks: only.landmarks as Array<[number, number]>,
                score: only.score,
              },
            ],
            at(1),
          );
          expect(crashed).toEqual({ status: 'applied', vectorBound: 3 });
          // The redelivery (or any later result) removes them: the bound kept the old count.
          await applyFacesDetected(deps, facesEvent(id, v1, [only], 1));
          expect(await vectorIds(vectors, v1, [1, 0])).toEqual(ids(1));
          const [row] = (await rowsOf(id)).results;
          expect(row?.faceVectorBound).toBe(3);
          // A row from before the bound was recorded: any face id may hold a vector.
          await t.database.db
            .update(imageResults)
            .set({ faceVectorBound: null })
            .where(eq(imageResults.imageId, id));
          const collection = await vectors.existing(v1);
          await collection?.upsert([{ id: faceId(id, v1, 700), vector: unit(0, 1) }]);
          await applyFacesDetected(deps, facesEvent(id, v1, [face(0.2, unit(1, 0))], 2));
          expect(await vectorIds(vectors, v1, [1, 0])).toEqual(ids(1));
          expect((await rowsOf(id)).results[0]?.faceVectorBound).toBe(1000);
        },
      );

      test.skipIf(!db.vectors)(
        "a deleted image's vectors are removed from every collection",
        async () => {
          const vectors = deps.vectors as ResultVectors;
          const [keep, gone] = [await newImage(), await newImage()];
          const [clip, faces] = [model('1'), model('1')];
          for (const id of [keep, gone]) {
            await applyEmbeddingComputed(deps, embeddingEvent(id, clip, unit(1, 0, 0)));
            await applyFacesDetected(
              deps,
              facesEvent(id, faces, [face(0.1, unit(0, 1)), face(0.5, unit(1, 0))]),
            );
          }
          await images.deleteWithEvents([gone], () => []);
          await vectors.removeImage(gone);
          await vectors.removeImage(gone);
          expect(await vectorIds(vectors, clip, [1, 0, 0])).toEqual([keep]);
          expect(await vectorIds(vectors, faces, [1, 0])).toEqual(
            [faceId(keep, faces, 0), faceId(keep, faces, 1)].sort(),
          );
        },
      );

      test('the first version to produce a result serves its task; later versions wait for activation', async () => {
        const id = await newImage();
        const d = t.database.db;
        await d.delete(taskModels).where(eq(taskModels.task, 'ocr'));
        const active = async () =>
          (await d.select().from(taskModels).where(eq(taskModels.task, 'ocr')))[0];
        const [first, second] = [model('9'), model('10')];
        await applyTextRecognized(deps, textEvent(id, first, ['first']));
        const activated = await active();
        expect(activated).toMatchObject({ modelId: first.id, modelVersion: '9' });
        await applyTextRecognized(deps, textEvent(id, second, ['second']));
        expect(await active()).toEqual(activated);
      });
    },
  );
}
