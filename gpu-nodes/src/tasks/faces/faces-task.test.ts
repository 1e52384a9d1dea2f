import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectedFace } from '@aex/shared';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { ModelUnavailableError } from '../../models/model-files.ts';
import { fixture, modelSuiteName, mustSkip, testModel } from '../../models/testing.ts';
import type { TaskOutcome } from '../task.ts';
import { cosine } from './embed.ts';
import { createFacesTask, type FacesTask } from './faces-task.ts';

describe('createFacesTask without the models', () => {
  test('names the production embedder and how to get it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'aex-faces-'));
    try {
      const err = await createFacesTask({
        modelDir: empty,
        providers: ['cpu'],
        log: capturingLogger(),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(ModelUnavailableError);
      expect(err.message).toContain('aex models pull face-embed-sface');
      expect(err.message).toContain('face-embed-mobilefacenet: mobilefacenet.onnx is missing');
    } finally {
      await rm(empty, { recursive: true });
    }
  });

  test.each([
    ['minScore', { minScore: 1.5 }],
    ['minFaceSize', { minFaceSize: -1 }],
    ['nmsIou', { nmsIou: Number.NaN }],
    ['maxFaces', { maxFaces: 0 }],
    ['detectSize', { detectSize: 16 }],
  ])('rejects a bad %s before touching the disk', async (_, bad) => {
    const err = await createFacesTask({
      modelDir: '/nonexistent',
      providers: ['cpu'],
      log: capturingLogger(),
      ...bad,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RangeError);
  });
});

const yunet = await testModel('face-detect-yunet');
const mobilefacenet = await testModel('face-embed-mobilefacenet');
const sface = await testModel('face-embed-sface');
const models = !yunet.available ? yunet : mobilefacenet;

/** The faces of a successful outcome. */
function facesOf(outcome: TaskOutcome<DetectedFace[]> | undefined): DetectedFace[] {
  if (!outcome?.ok) throw new Error(`expected faces, got ${JSON.stringify(outcome)}`);
  return outcome.result;
}

describe.skipIf(mustSkip(models, true))(
  modelSuiteName('faces task on real images', models, true),
  () => {
    let task: FacesTask;
    const log = capturingLogger();
    const images: Record<string, Uint8Array> = {};

    beforeAll(async () => {
      if (!models.available) throw new Error('unreachable: suite is skipped');
      task = await createFacesTask({
        modelDir: models.modelDir,
        providers: ['cpu'],
        log,
        intraOpThreads: 2,
      });
      for (const name of ['face_1', 'face_2', 'face_13']) {
        images[name] = await fixture(`faces/${name}.jpg`);
      }
      images.cat = await fixture('objects/cat.jpg');
      images.rose = await fixture('objects/rose.jpg');
      images.corrupted = await fixture('exif-samples/jpg/corrupted.jpg');
    });
    afterAll(() => task?.close());

    const run = async (name: string) => facesOf((await task.run([images[name] as Uint8Array]))[0]);

    test('keys results by the embedder and names the detector', () => {
      const embedder = sface.available ? 'face-embed-sface' : 'face-embed-mobilefacenet';
      expect(task.name).toBe('faces');
      expect(task.model.id).toBe(embedder);
      expect(task.detector).toEqual({ id: 'face-detect-yunet', version: '2026may' });
      expect(task.provider).toBe('cpu');
      const sessions = log.lines.filter((l) => l.msg === 'inference session ready');
      expect(sessions.map((l) => l.fields.model)).toEqual([
        'face-detect-yunet@2026may',
        `${task.model.id}@${task.model.version}`,
      ]);
    });

    // The proof (issue 4, "Proof").
    test('face_2.jpg has 4 faces and face_13.jpg 2', async () => {
      expect(await run('face_2')).toHaveLength(4);
      expect(await run('face_13')).toHaveLength(2);
    });

    test('the group photo face_1.jpg has about 50 faces', async () => {
      // 52 with the defaults: every face in the picture but none smaller than 20 px.
      const faces = await run('face_1');
      expect(faces.length).toBeGreaterThanOrEqual(45);
      expect(faces.length).toBeLessThanOrEqual(55);
    });

    test.each(['cat', 'rose'])('%s.jpg has no face', async (name) => {
      expect(await run(name)).toEqual([]);
    });

    test('every face fits the event contract', async () => {
      for (const name of ['face_1', 'face_2', 'face_13']) {
        const faces = await run(name);
        for (const face of faces) {
          DetectedFace.parse(face);
          const { x, y, width, height } = face.box;
          // Boxes lie inside the image.
          for (const v of [x, y, x + width, y + height]) {
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1);
          }
          expect(width * height).toBeGreaterThan(0);
          // Landmarks lie inside their box; the eye on the image's left comes first.
          for (const [lx, ly] of face.landmarks) {
            expect(lx).toBeGreaterThanOrEqual(x);
            expect(lx).toBeLessThanOrEqual(x + width);
            expect(ly).toBeGreaterThanOrEqual(y);
            expect(ly).toBeLessThanOrEqual(y + height);
          }
          const [eye, otherEye, , mouth, otherMouth] = face.landmarks as [number, number][];
          expect(eye?.[0]).toBeLessThan(otherEye?.[0] as number);
          expect(mouth?.[0]).toBeLessThan(otherMouth?.[0] as number);
          // Upright faces: the mouth below the eyes.
          expect(mouth?.[1]).toBeGreaterThan(eye?.[1] as number);
          expect(face.score).toBeGreaterThanOrEqual(0.7);
          expect(face.embedding).toHaveLength(128);
          const norm = Math.hypot(...face.embedding);
          expect(norm).toBeCloseTo(1, 6);
        }
        // Best score first.
        const scores = faces.map((f) => f.score);
        expect(scores).toEqual([...scores].sort((a, b) => b - a));
      }
    });

    test('the same image gives the same faces every time', async () => {
      expect(await run('face_13')).toEqual(await run('face_13'));
    });

    test('an undecodable image fails alone; the others get their faces', async () => {
      const random = crypto.getRandomValues(new Uint8Array(4096));
      const results = await task.run([
        images.face_13 as Uint8Array,
        images.corrupted as Uint8Array,
        random,
        new Uint8Array(0),
        images.face_2 as Uint8Array,
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, false, false, false, true]);
      expect(facesOf(results[0])).toHaveLength(2);
      expect(facesOf(results[4])).toHaveLength(4);
      for (const failed of results.slice(1, 4)) {
        expect(failed?.ok === false && failed.error).toStartWith('cannot decode image: ');
      }
      // The faces of all the images are embedded together; each face keeps its own embedding
      // (another person's would be at most 0.26 away).
      for (const [i, name] of [
        [0, 'face_13'],
        [4, 'face_2'],
      ] as const) {
        const alone = await run(name);
        const together = facesOf(results[i]);
        expect(together.map((f) => f.box)).toEqual(alone.map((f) => f.box));
        for (const [j, face] of together.entries()) {
          const own = (alone[j] as DetectedFace).embedding;
          expect(cosine(face.embedding, own)).toBeGreaterThanOrEqual(0.9999);
        }
      }
    });

    test('no images, no results', async () => {
      expect(await task.run([])).toEqual([]);
    });

    test('minScore, minFaceSize and maxFaces bound the faces', async () => {
      if (!models.available) throw new Error('unreachable: suite is skipped');
      const best = (await run('face_2'))[0];
      const options = {
        modelDir: models.modelDir,
        providers: ['cpu'] as const,
        log: capturingLogger(),
      };
      const strict = [
        // face_2's face boxes are 98–121 px on their shorter side.
        await createFacesTask({ ...options, minFaceSize: 130 }),
        await createFacesTask({ ...options, minScore: 0.99 }),
        await createFacesTask({ ...options, maxFaces: 1 }),
      ];
      try {
        const [bySize, byScore, byCount] = await Promise.all(
          strict.map(async (t) => facesOf((await t.run([images.face_2 as Uint8Array]))[0])),
        );
        expect(bySize).toEqual([]);
        expect(byScore).toEqual([]);
        expect(byCount).toEqual([best as DetectedFace]);
      } finally {
        await Promise.all(strict.map((t) => t.close()));
      }
    });
  },
);
