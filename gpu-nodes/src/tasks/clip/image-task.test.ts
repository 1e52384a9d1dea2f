import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { InferenceError } from '../../inference/onnx-session.ts';
import { ModelUnavailableError } from '../../models/model-files.ts';
import { fixture, fixturesAvailable } from '../../models/testing.ts';
import type { InferenceTask } from '../task.ts';
import { createClipImageTask } from './image-task.ts';
import {
  clipTokenizerDir,
  type GeneratedClipModels,
  generateClipModels,
} from './testing/generate-clip-models.ts';

// The whole CLIP image path (verified files, session, decode, CLIP crop, batch, embedding) on
// the generated CLIP-shaped graphs: no CLIP weights exist offline (shared/models/SOURCES.md).
const ready = clipTokenizerDir() !== null && fixturesAvailable;
const title = ready
  ? 'CLIP image task on the generated model'
  : 'CLIP image task (skipped: needs clip-tokenizer in AEX_MODEL_DIR and the fixture images)';

const dot = (a: readonly number[], b: readonly number[]) =>
  a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);

function vectors(outcomes: Awaited<ReturnType<InferenceTask<number[]>['run']>>): number[][] {
  return outcomes.map((o) => {
    if (!o.ok) throw new Error(`unexpected failure: ${o.error}`);
    return o.result;
  });
}

function expectClose(a: readonly number[], b: readonly number[]) {
  expect(a).toHaveLength(b.length);
  expect(Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))))).toBeLessThan(1e-5);
}

describe.skipIf(!ready)(title, () => {
  let models: GeneratedClipModels;
  let task: InferenceTask<number[]>;
  let images: Uint8Array[];
  const log = capturingLogger();

  beforeAll(async () => {
    models = await generateClipModels();
    task = await createClipImageTask({ modelDir: models.modelDir, providers: ['cpu'], log });
    images = await Promise.all(
      ['objects/cat.jpg', 'objects/rose.jpg', 'objects/tench_n01440764.png'].map(fixture),
    );
  });
  afterAll(async () => {
    await task?.close();
    await models?.remove();
  });

  test('gives unit-norm 512-d vectors keyed by the shared CLIP space', async () => {
    expect(task).toMatchObject({ name: 'clip', provider: 'cpu', maxBatch: 16 });
    expect(task.model).toEqual({ id: 'clip-vit-b32-openai', version: 'immich-openai' });
    for (const v of vectors(await task.run(images))) {
      expect(v).toHaveLength(512);
      expect(dot(v, v)).toBeCloseTo(1, 6);
    }
    expect(log.lines.some((l) => l.msg === 'inference session ready')).toBe(true);
  });

  test('a batch equals one image at a time', async () => {
    const batched = vectors(await task.run(images));
    for (const [i, image] of images.entries()) {
      expectClose(vectors(await task.run([image]))[0] as number[], batched[i] as number[]);
    }
  });

  test('different images give different vectors', async () => {
    const [cat, rose, tench] = vectors(await task.run(images)) as [number[], number[], number[]];
    expect(dot(cat, rose)).toBeLessThan(0.99);
    expect(dot(cat, tench)).toBeLessThan(0.99);
    expect(dot(rose, tench)).toBeLessThan(0.99);
  });

  test('a corrupt image fails alone', async () => {
    const [cat, rose] = images as [Uint8Array, Uint8Array];
    const truncated = cat.subarray(0, 200);
    const outcomes = await task.run([
      cat,
      new TextEncoder().encode('not an image'),
      truncated,
      rose,
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, true]);
    expect(outcomes[1]).toMatchObject({
      ok: false,
      error: expect.stringContaining('cannot decode'),
    });
    const alone = vectors(await task.run([cat, rose]));
    expectClose(vectors([outcomes[0], outcomes[3]] as never)[0] as number[], alone[0] as number[]);
    expect(await task.run([])).toEqual([]);
  });

  test('embeddings are deterministic, across regenerated models too', async () => {
    const again = await generateClipModels();
    const other = await createClipImageTask({
      modelDir: again.modelDir,
      providers: ['cpu'],
      log: capturingLogger(),
    });
    try {
      expect(vectors(await other.run(images))).toEqual(vectors(await task.run(images)));
    } finally {
      await other.close();
      await again.remove();
    }
  });

  test("Immich's newer export: uint8 NHWC input, batch fixed at 1, [N,1,512] output", async () => {
    const variant = await generateClipModels({
      imageInput: 'uint8-nhwc',
      fixedBatch: 1,
      outputRank: 3,
      outputName: 'image_embedding',
    });
    const t = await createClipImageTask({
      modelDir: variant.modelDir,
      providers: ['cpu'],
      log: capturingLogger(),
    });
    try {
      expect(t.maxBatch).toBe(1);
      const batched = vectors(await t.run(images));
      expect(batched).toHaveLength(3);
      for (const [i, v] of batched.entries()) {
        expect(dot(v, v)).toBeCloseTo(1, 6);
        expectClose(vectors(await t.run([images[i] as Uint8Array]))[0] as number[], v);
      }
    } finally {
      await t.close();
      await variant.remove();
    }
  });

  test('a model file that differs from its pinned sum is not loaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-clip-bad-'));
    try {
      const copy = await generateClipModels({ dir });
      await writeFile(join(copy.modelDir, 'clip-vit-b32-openai-visual', 'model.onnx'), 'evil');
      const err = await createClipImageTask({ modelDir: dir, providers: ['cpu'], log }).catch(
        (e) => e,
      );
      expect(err).toBeInstanceOf(ModelUnavailableError);
      expect(err.message).toContain('pinned in models.lock.json');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a graph that is not a CLIP image encoder is refused at load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-clip-wrong-'));
    try {
      await generateClipModels({ dir });
      // The text encoder in the image encoder's place, with no pin to catch it first.
      const visual = join(dir, 'clip-vit-b32-openai-visual');
      await copyFile(
        join(dir, 'clip-vit-b32-openai-textual', 'model.onnx'),
        join(visual, 'model.onnx'),
      );
      await rm(join(visual, 'models.lock.json'));
      const err = await createClipImageTask({ modelDir: dir, providers: ['cpu'], log }).catch(
        (e) => e,
      );
      expect(err).toBeInstanceOf(InferenceError);
      expect(err.message).toContain('is not a CLIP encoder');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test('without the model, the error says how to get it', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'aex-clip-none-'));
  try {
    const err = await createClipImageTask({
      modelDir: empty,
      providers: ['cpu'],
      log: capturingLogger(),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelUnavailableError);
    expect(err.message).toContain('aex models pull clip-vit-b32-openai-visual');
  } finally {
    await rm(empty, { recursive: true });
  }
});
