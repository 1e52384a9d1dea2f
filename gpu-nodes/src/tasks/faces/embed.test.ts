import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { openOnnxSession } from '../../inference/onnx-session.ts';
import { fixture, modelSuiteName, mustSkip, testModel } from '../../models/testing.ts';
import { ALIGNED_SIZE, ARCFACE_REFERENCE, estimateSimilarity, warpFace } from './align.ts';
import { batchCapableGraph } from './batch-graph.ts';
import { openFaceDetector } from './detector.ts';
import {
  cosine,
  EMBEDDER_INPUT,
  embedderInput,
  type FaceEmbedder,
  l2Normalize,
  MAX_FACES_PER_RUN,
  openFaceEmbedder,
} from './embed.ts';
import { decodeRgb } from './preprocess.ts';
import { tinyEmbedder } from './testing/tiny-graphs.ts';

const plane = ALIGNED_SIZE * ALIGNED_SIZE;

/** A 112×112 crop of one colour. */
const crop = (rgb: [number, number, number]) => {
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) data.set(rgb, i * 3);
  return data;
};

describe('embedderInput', () => {
  test('MobileFaceNet gets planar RGB, (x − 127.5) / 128', () => {
    const t = embedderInput(crop([255, 127, 0]), EMBEDDER_INPUT['face-embed-mobilefacenet']);
    expect(t).toHaveLength(3 * plane);
    expect(t[0]).toBeCloseTo(127.5 / 128, 6);
    expect(t[plane]).toBeCloseTo(-0.5 / 128, 6);
    expect(t[2 * plane + plane - 1]).toBeCloseTo(-127.5 / 128, 6);
  });

  test('SFace gets planar RGB 0–255, unnormalised, as OpenCV’s FaceRecognizerSF feeds it', () => {
    const t = embedderInput(crop([200, 100, 50]), EMBEDDER_INPUT['face-embed-sface']);
    expect([t[0], t[plane], t[2 * plane]]).toEqual([200, 100, 50]);
  });

  test('puts blue first for a BGR convention', () => {
    const t = embedderInput(crop([200, 100, 50]), { channelOrder: 'bgr', mean: 0, scale: 1 });
    expect([t[0], t[plane], t[2 * plane]]).toEqual([50, 100, 200]);
  });

  test('rejects a crop of the wrong size', () => {
    expect(() =>
      embedderInput(new Uint8Array(10), EMBEDDER_INPUT['face-embed-mobilefacenet']),
    ).toThrow(`the crop has 10 values, expected ${plane * 3}`);
  });
});

describe('l2Normalize', () => {
  test('gives a unit vector in the same direction', () => {
    const v = l2Normalize(new Float32Array([3, 0, -4]));
    expect(v).toEqual([0.6, 0, -0.8]);
    expect(cosine(v, v)).toBeCloseTo(1, 12);
  });

  test.each([
    ['a zero vector', [0, 0, 0]],
    ['a NaN', [1, Number.NaN]],
    ['an infinity', [1, Number.POSITIVE_INFINITY]],
  ])('rejects %s', (_, v) => {
    expect(() => l2Normalize(v)).toThrow(RangeError);
  });
});

describe('cosine', () => {
  test('of unit vectors is their dot product', () => {
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([0.6, 0.8], [0.6, 0.8])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [-1, 0])).toBe(-1);
  });
});

/** Largest difference between two lists of vectors of the same shape. */
function maxDifference(a: number[][], b: number[][]): number {
  expect(b.map((v) => v.length)).toEqual(a.map((v) => v.length));
  return Math.max(...a.flatMap((v, i) => v.map((x, j) => Math.abs(x - (b[i]?.[j] as number)))));
}

const warnings = (log: ReturnType<typeof capturingLogger>) =>
  log.lines.filter((l) => l.level === 'warn');

const yunet = await testModel('face-detect-yunet');
const mobilefacenet = await testModel('face-embed-mobilefacenet');
const models = !yunet.available ? yunet : mobilefacenet;

describe.skipIf(mustSkip(models, true))(
  modelSuiteName('openFaceEmbedder batches MobileFaceNet', models, true),
  () => {
    const log = capturingLogger();
    let batched: FaceEmbedder;
    let alone: FaceEmbedder;
    let crops: Uint8Array[];

    beforeAll(async () => {
      if (!models.available) throw new Error('unreachable: suite is skipped');
      const common = { modelDir: models.modelDir, providers: ['cpu'] as const, intraOpThreads: 2 };
      const id = 'face-embed-mobilefacenet';
      batched = await openFaceEmbedder({ ...common, log, id });
      alone = await openFaceEmbedder({ ...common, log: capturingLogger(), id, maxFacesPerRun: 1 });
      const detector = await openFaceDetector({ ...common, log: capturingLogger() });
      const image = await decodeRgb(await fixture('faces/face_2.jpg'));
      const options = {
        detectSize: 960,
        minScore: 0.7,
        minFaceSize: 20,
        nmsIou: 0.3,
        maxFaces: 10,
      };
      const faces = await detector.detect(image, options);
      await detector.close();
      crops = faces.map((f) => warpFace(image, estimateSimilarity(f.landmarks, ARCFACE_REFERENCE)));
    });
    afterAll(() => Promise.all([batched?.close(), alone?.close()]));

    test(`its graph passes the probe: faces run ${MAX_FACES_PER_RUN} at a time, as logged`, () => {
      expect(batched.facesPerRun).toBe(MAX_FACES_PER_RUN);
      expect(alone.facesPerRun).toBe(1);
      expect(warnings(log)).toEqual([]);
      const line = log.lines.find((l) => l.msg === 'face embedder batches');
      expect(line?.fields).toEqual({
        model: 'face-embed-mobilefacenet@1',
        facesPerRun: MAX_FACES_PER_RUN,
        reshapes: ['Reshape_161'],
      });
    });

    test('the four faces of face_2.jpg embed in one run as each does alone, in order', async () => {
      expect(crops).toHaveLength(4);
      const expected = await Promise.all(crops.map((crop) => alone.embed(crop)));
      const got = await batched.embedMany(crops);
      // Measured: identical on this machine. Different people here are at most 0.26 apart,
      // so a batch that mixed or reordered its faces would fail by far.
      for (const [i, vector] of got.entries()) {
        expect(cosine(vector, expected[i] as number[])).toBeGreaterThanOrEqual(0.9999);
      }
      expect(maxDifference(got, expected)).toBeLessThanOrEqual(1e-4);
    });

    test('more faces than a run takes are split over runs, keeping their order', async () => {
      if (!models.available) throw new Error('unreachable: suite is skipped');
      const threes = await openFaceEmbedder({
        modelDir: models.modelDir,
        providers: ['cpu'],
        log: capturingLogger(),
        id: 'face-embed-mobilefacenet',
        maxFacesPerRun: 3,
      });
      try {
        const many = [...crops, ...crops.slice(0, 3)]; // 7 faces: runs of 3, 3 and 1
        const expected = await Promise.all(many.map((crop) => alone.embed(crop)));
        expect(maxDifference(await threes.embedMany(many), expected)).toBeLessThanOrEqual(1e-4);
        expect(await threes.embedMany([])).toEqual([]);
      } finally {
        await threes.close();
      }
    });
  },
);

// Embedders we cannot inspect (SFace's file is not in the test models) stand in as tiny graphs
// under SFace's name: its registry entry pins no checksum, so any graph with its input loads.
describe('openFaceEmbedder on graphs it cannot prove', () => {
  let modelDir: string;
  const crops = [1, 2, 3, 4, 5].map((seed) =>
    Uint8Array.from(
      { length: plane * 3 },
      (_, i) => (Math.imul(i + 1, seed * 2654435761) >>> 24) & 255,
    ),
  );

  beforeAll(async () => {
    modelDir = await mkdtemp(join(tmpdir(), 'aex-face-embed-'));
  });
  afterAll(() => rm(modelDir, { recursive: true, force: true }));

  /** Writes `graph` as SFace and opens it; `expected`: each crop's embedding from a run of its own. */
  async function standIn(graph: Uint8Array) {
    const dir = join(modelDir, 'face-embed-sface');
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'face_recognition_sface_2021dec.onnx');
    await writeFile(path, graph);
    const log = capturingLogger();
    const common = { providers: ['cpu'] as const, log: capturingLogger() };
    const embedder = await openFaceEmbedder({ ...common, log, id: 'face-embed-sface', modelDir });
    // The reference: the graph as written, one face per run, through the session adapter alone.
    const session = await openOnnxSession({ ...common, path });
    const expected: number[][] = [];
    for (const crop of crops) {
      const data = embedderInput(crop, EMBEDDER_INPUT['face-embed-sface']);
      const out = await session.run({ data: { type: 'float32', data, dims: [1, 3, 112, 112] } });
      expected.push(l2Normalize(out.embedding?.data as Float32Array));
    }
    await session.close();
    return { embedder, log, expected };
  }

  test('one that batches is batched', async () => {
    const { embedder, log, expected } = await standIn(
      tinyEmbedder({ inputName: 'data', tail: 'flatten' }),
    );
    try {
      expect(embedder.facesPerRun).toBe(MAX_FACES_PER_RUN);
      expect(warnings(log)).toEqual([]);
      expect(maxDifference(await embedder.embedMany(crops), expected)).toBeLessThanOrEqual(1e-6);
    } finally {
      await embedder.close();
    }
  });

  test('one that mixes the faces of a batch runs them one at a time, warning once', async () => {
    const graph = tinyEmbedder({ inputName: 'data', tail: 'flatten', mixBatch: true });
    const { embedder, log, expected } = await standIn(graph);
    try {
      expect(embedder.facesPerRun).toBe(1);
      expect(warnings(log)).toHaveLength(1);
      expect(warnings(log)[0]?.msg).toBe('face embedder runs one face at a time');
      expect(warnings(log)[0]?.fields.reason).toStartWith(
        'probe crop 0 batched differs from alone',
      );
      expect(maxDifference(await embedder.embedMany(crops), expected)).toBeLessThanOrEqual(1e-6);
      expect(warnings(log)).toHaveLength(1);
    } finally {
      await embedder.close();
    }
    // The test would catch a batch slipping through: batched, this graph is far off.
    const derived = batchCapableGraph(graph, 'data');
    const session = await openOnnxSession({
      path: 'mixing.onnx',
      bytes: derived?.bytes,
      providers: ['cpu'],
      log: capturingLogger(),
    });
    try {
      const data = new Float32Array(crops.length * plane * 3);
      for (const [i, crop] of crops.entries()) {
        data.set(embedderInput(crop, EMBEDDER_INPUT['face-embed-sface']), i * plane * 3);
      }
      const out = await session.run({
        data: { type: 'float32', data, dims: [crops.length, 3, 112, 112] },
      });
      const embedding = out.embedding;
      if (embedding?.type !== 'float32') throw new Error('expected float32 embeddings');
      const rows = crops.map((_, i) => l2Normalize(embedding.data.subarray(i * 16, i * 16 + 16)));
      expect(maxDifference(rows, expected)).toBeGreaterThan(0.01);
    } finally {
      await session.close();
    }
  });

  test('rejects maxFacesPerRun below 1 before loading anything', async () => {
    const err = await openFaceEmbedder({
      id: 'face-embed-sface',
      modelDir: '/nonexistent',
      providers: ['cpu'],
      log: capturingLogger(),
      maxFacesPerRun: 0,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RangeError);
  });
});
