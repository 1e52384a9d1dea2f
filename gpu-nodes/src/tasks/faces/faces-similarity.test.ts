import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { DetectedFace } from '@aex/shared';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import sharp from 'sharp';
import { fixture, modelSuiteName, mustSkip, testModel } from '../../models/testing.ts';
import type { TaskOutcome } from '../task.ts';
import { ARCFACE_REFERENCE, applySimilarity, estimateSimilarity, warpFace } from './align.ts';
import { openFaceDetector } from './detector.ts';
import { cosine, type FaceEmbedder, openFaceEmbedder } from './embed.ts';
import { createFacesTask, type FacesTask } from './faces-task.ts';
import { type FaceCandidate, iou } from './postprocess.ts';
import { decodeRgb } from './preprocess.ts';

// Whether alignment and embedding make the same face comparable across copies of an image,
// and different people distinguishable. Thresholds hold margin over what MobileFaceNet measured
// on this machine (noted beside each).

/** The faces of a successful outcome. */
function facesOf(outcome: TaskOutcome<DetectedFace[]> | undefined): DetectedFace[] {
  if (!outcome?.ok) throw new Error(`expected faces, got ${JSON.stringify(outcome)}`);
  return outcome.result;
}

const yunet = await testModel('face-detect-yunet');
const mobilefacenet = await testModel('face-embed-mobilefacenet');
const models = !yunet.available ? yunet : mobilefacenet;

describe.skipIf(mustSkip(models, true))(
  modelSuiteName('face embeddings compare faces', models, true),
  () => {
    let task: FacesTask;
    const originals: Record<string, Uint8Array> = {};
    const faces: Record<string, DetectedFace[]> = {};

    beforeAll(async () => {
      if (!models.available) throw new Error('unreachable: suite is skipped');
      task = await createFacesTask({
        modelDir: models.modelDir,
        providers: ['cpu'],
        log: capturingLogger(),
        embedder: 'face-embed-mobilefacenet',
        intraOpThreads: 2,
      });
      for (const name of ['face_2', 'face_13']) {
        originals[name] = await fixture(`faces/${name}.jpg`);
        faces[name] = facesOf((await task.run([originals[name] as Uint8Array]))[0]);
      }
    });
    afterAll(() => task?.close());

    // Each copy as core might store it: resized, then re-encoded lossily.
    test.each([
      ['face_2', 1.41, 'webp', 82], // measured ≥ 0.95
      ['face_2', 0.8, 'jpeg', 75], // ≥ 0.95
      ['face_2', 1, 'webp', 60], // ≥ 0.91
      ['face_13', 2, 'jpeg', 60], // ≥ 0.98
      ['face_13', 0.8, 'jpeg', 75], // ≥ 0.95
    ] as const)(
      'the faces of %s scaled %d× as %s q%d match their originals',
      async (name, scale, format, quality) => {
        const original = originals[name] as Uint8Array;
        const { width } = await sharp(original).metadata();
        const copy = await sharp(original)
          .resize({ width: Math.round((width as number) * scale) })
          [format]({ quality })
          .toBuffer();
        const copied = facesOf((await task.run([copy]))[0]);
        const expected = faces[name] as DetectedFace[];
        expect(copied).toHaveLength(expected.length);
        for (const face of expected) {
          const same = copied.find((c) => iou(c.box, face.box) > 0.5);
          expect(same).toBeDefined();
          expect(cosine(face.embedding, (same as DetectedFace).embedding)).toBeGreaterThan(0.85);
        }
      },
    );

    test('different people are far apart', () => {
      // Six people over face_2.jpg and face_13.jpg, 15 pairs: measured at most 0.26.
      const people = [...(faces.face_2 ?? []), ...(faces.face_13 ?? [])];
      expect(people).toHaveLength(6);
      for (const [i, a] of people.entries()) {
        for (const b of people.slice(i + 1)) {
          expect(cosine(a.embedding, b.embedding)).toBeLessThan(0.45);
        }
      }
    });
  },
);

describe.skipIf(mustSkip(models, true))(
  modelSuiteName('alignment on real faces', models, true),
  () => {
    let embedder: FaceEmbedder;
    let landmarks: FaceCandidate['landmarks'][];
    let bytes: Uint8Array;

    beforeAll(async () => {
      if (!models.available) throw new Error('unreachable: suite is skipped');
      const common = {
        modelDir: models.modelDir,
        providers: ['cpu'] as const,
        log: capturingLogger(),
      };
      embedder = await openFaceEmbedder({ ...common, id: 'face-embed-mobilefacenet' });
      const detector = await openFaceDetector(common);
      bytes = await fixture('faces/face_13.jpg');
      const found = await detector.detect(await decodeRgb(bytes), {
        detectSize: 960,
        minScore: 0.7,
        minFaceSize: 20,
        nmsIou: 0.3,
        maxFaces: 10,
      });
      await detector.close();
      landmarks = found.map((f) => f.landmarks);
    });
    afterAll(() => embedder?.close());

    test('the transform puts detected landmarks near the ArcFace reference points', () => {
      // Real faces are not the reference shape (a smile widens the mouth, a turn shifts the
      // nose), so the least-squares fit leaves a residual: measured ≤ 4.6 px RMS, ≤ 6.8 px for
      // one point over the fixtures' faces in the 112 px crop.
      expect(landmarks).toHaveLength(2);
      for (const points of landmarks) {
        const t = estimateSimilarity(points, ARCFACE_REFERENCE);
        const errors = points.map((p, i) => {
          const [x, y] = applySimilarity(t, p);
          const [rx, ry] = ARCFACE_REFERENCE[i] as readonly [number, number];
          return Math.hypot(x - rx, y - ry);
        });
        expect(Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / 5)).toBeLessThan(5);
        expect(Math.max(...errors)).toBeLessThan(8);
      }
    });

    test('an aligned crop of a rotated copy matches the unrotated one', async () => {
      const upright = await decodeRgb(bytes);
      // 90° clockwise is an exact pixel permutation: (x, y) → (height − 1 − y, x).
      const rotated = await decodeRgb(await sharp(bytes).rotate(90).png().toBuffer());
      for (const points of landmarks) {
        const turned = points.map(([x, y]) => [upright.height - 1 - y, x]) as typeof points;
        const a = warpFace(upright, estimateSimilarity(points, ARCFACE_REFERENCE));
        const b = warpFace(rotated, estimateSimilarity(turned, ARCFACE_REFERENCE));
        let diff = 0;
        for (let i = 0; i < a.length; i++) diff += Math.abs((a[i] as number) - (b[i] as number));
        expect(diff / a.length).toBeLessThan(1);
        expect(cosine(await embedder.embed(a), await embedder.embed(b))).toBeGreaterThan(0.99);
      }
    });
  },
);

describe.skipIf(mustSkip(models, true))(
  modelSuiteName('faces task on tilted heads', models, true),
  () => {
    test.each([15, -15])('a face tilted by %d° still embeds as the same person', async (angle) => {
      if (!models.available) throw new Error('unreachable: suite is skipped');
      // Through the detector, so this measures YuNet's landmarks on a tilted face more than
      // the alignment (exact above): measured 0.94 and 0.97 at 15°, 0.88 and 0.75 at −15°,
      // 0.15–0.85 at ±30°, no face at 90°. Different people stay ≤ 0.26.
      const task = await createFacesTask({
        modelDir: models.modelDir,
        providers: ['cpu'],
        log: capturingLogger(),
        embedder: 'face-embed-mobilefacenet',
      });
      try {
        const bytes = await fixture('faces/face_13.jpg');
        const tilted = await sharp(bytes).rotate(angle, { background: '#ffffff' }).png().toBuffer();
        const [upright, turned] = (await task.run([bytes, tilted])).map(facesOf);
        expect(turned).toHaveLength(2);
        for (const face of upright ?? []) {
          const best = Math.max(...(turned ?? []).map((t) => cosine(face.embedding, t.embedding)));
          expect(best).toBeGreaterThan(0.7);
        }
      } finally {
        await task.close();
      }
    });
  },
);
