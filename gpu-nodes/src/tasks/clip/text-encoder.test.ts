import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { ModelUnavailableError } from '../../models/model-files.ts';
import {
  clipTokenizerDir,
  type GeneratedClipModels,
  generateClipModels,
} from './testing/generate-clip-models.ts';
import { type ClipTextEncoder, createClipTextEncoder } from './text-encoder.ts';

// The CLIP search path (verified files, tokenizer, session, embedding) on the generated
// CLIP-shaped text encoder.
const ready = clipTokenizerDir() !== null;
const title = ready
  ? 'CLIP text encoder on the generated model'
  : 'CLIP text encoder (skipped: no clip-tokenizer in AEX_MODEL_DIR)';

const dot = (a: readonly number[], b: readonly number[]) =>
  a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);

describe.skipIf(!ready)(title, () => {
  let models: GeneratedClipModels;
  let encoder: ClipTextEncoder;

  beforeAll(async () => {
    models = await generateClipModels();
    encoder = await createClipTextEncoder({
      modelDir: models.modelDir,
      providers: ['cpu'],
      log: capturingLogger(),
    });
  });
  afterAll(async () => {
    await encoder?.close();
    await models?.remove();
  });

  test('gives unit-norm 512-d vectors in the same space as the image task', async () => {
    expect(encoder.model).toEqual({ id: 'clip-vit-b32-openai', version: 'immich-openai' });
    expect(encoder.provider).toBe('cpu');
    const vectors = await encoder.embed(['a photo of a cat', 'café 🐱', '', 'word '.repeat(300)]);
    expect(vectors).toHaveLength(4);
    for (const v of vectors) {
      expect(v).toHaveLength(512);
      expect(dot(v, v)).toBeCloseTo(1, 6);
    }
    expect(await encoder.embed([])).toEqual([]);
  });

  test('different texts differ; texts that tokenise alike embed alike', async () => {
    const [cat, dog, shouting, curly, straight] = await encoder.embed([
      'a photo of a cat',
      'a photo of a dog',
      '  A PHOTO   of a Cat ',
      'the cat’s toy',
      "the cat's toy",
    ]);
    expect(dot(cat as number[], dog as number[])).toBeLessThan(0.99);
    // Case and whitespace are normalised away by the tokenizer, curly quotes by its ftfy step.
    expect(shouting).toEqual(cat as number[]);
    expect(curly).toEqual(straight as number[]);
  });

  test('a batch equals one text at a time, and runs are deterministic', async () => {
    const texts = ['sunset over the sea', 'a red rose', '東京タワーの夜景'];
    const batched = await encoder.embed(texts);
    for (const [i, text] of texts.entries()) {
      const [alone] = await encoder.embed([text]);
      const diff = Math.max(
        ...(alone as number[]).map((v, j) => Math.abs(v - (batched[i]?.[j] ?? 0))),
      );
      expect(diff).toBeLessThan(1e-6);
    }
    expect(await encoder.embed(texts)).toEqual(batched);
  });

  test('a fixed batch of 1 (older Immich exports) still embeds many texts', async () => {
    const fixed = await generateClipModels({ fixedBatch: 1, outputName: 'text_embedding' });
    const one = await createClipTextEncoder({
      modelDir: fixed.modelDir,
      providers: ['cpu'],
      log: capturingLogger(),
    });
    try {
      const texts = ['a photo of a cat', 'a red rose', 'sunset'];
      // The same weights as the default model: the same vectors, batched or not.
      expect(await one.embed(texts)).toEqual(await encoder.embed(texts));
    } finally {
      await one.close();
      await fixed.remove();
    }
  });
});

test('without the model, the error says how to get it', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'aex-clip-text-none-'));
  try {
    const err = await createClipTextEncoder({
      modelDir: empty,
      providers: ['cpu'],
      log: capturingLogger(),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelUnavailableError);
    expect(err.problems).toEqual(['model.onnx is missing', 'tokenizer.json is missing']);
    expect(err.message).toContain('aex models pull clip-vit-b32-openai-textual');
  } finally {
    await rm(empty, { recursive: true });
  }
});
