import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fileWithRole,
  ModelUnavailableError,
  resolveModelFiles,
  verifyModelFiles,
} from './model-files.ts';
import { getModelEntry, ModelEntry } from './registry.ts';
import { modelSuiteName, mustSkip, testModel } from './testing.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// A synthetic entry whose files the test writes itself, so checksum failures can be provoked
// without touching real weights.
const weights = 'not really weights';
const labels = '["a","b"]';
const entry = ModelEntry.parse({
  id: 'toy-model',
  version: '1',
  task: 'tags',
  files: [
    {
      name: 'toy.onnx',
      role: 'model',
      url: 'https://example.com/toy.onnx',
      sha256: sha256(weights),
      bytes: weights.length,
    },
    {
      name: 'labels.json',
      role: 'labels',
      url: 'https://example.com/l.json',
      sha256: sha256(labels),
    },
  ],
  input: { name: 'input', type: 'float32', shape: [-1, 3] },
  license: 'MIT',
});

let modelDir = '';
beforeAll(async () => {
  modelDir = await mkdtemp(join(tmpdir(), 'aex-models-'));
});
afterAll(async () => {
  await rm(modelDir, { recursive: true });
});

async function writeToy(files: { weights?: string; labels?: string }): Promise<void> {
  const dir = join(modelDir, entry.id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  if (files.weights !== undefined) await writeFile(join(dir, 'toy.onnx'), files.weights);
  if (files.labels !== undefined) await writeFile(join(dir, 'labels.json'), files.labels);
}

describe('resolveModelFiles', () => {
  test('gives absolute paths <modelDir>/<id>/<name> in registry order', async () => {
    await writeToy({ weights, labels });
    const files = await resolveModelFiles(entry, modelDir);
    expect(files.map((f) => f.path)).toEqual([
      join(modelDir, 'toy-model', 'toy.onnx'),
      join(modelDir, 'toy-model', 'labels.json'),
    ]);
    expect(fileWithRole(files, 'labels').name).toBe('labels.json');
  });

  test('a missing model names the id, the directory, each file and how to get it', async () => {
    await writeToy({});
    const err = await resolveModelFiles(entry, modelDir).catch((e) => e);
    expect(err).toBeInstanceOf(ModelUnavailableError);
    expect(err.modelId).toBe('toy-model');
    expect(err.problems).toEqual(['toy.onnx is missing', 'labels.json is missing']);
    expect(err.message).toContain(join(modelDir, 'toy-model'));
    expect(err.message).toContain('`aex models pull toy-model`');
    expect(err.message).toContain('AEX_MODEL_DIR');
  });

  test('a file of the wrong size is caught before hashing', async () => {
    await writeToy({ weights: `${weights}!`, labels });
    const err = await resolveModelFiles(entry, modelDir).catch((e) => e);
    expect(err.problems).toEqual([
      `toy.onnx has ${weights.length + 1} bytes, expected ${weights.length}`,
    ]);
  });

  test('the real model folder name is the registry id', async () => {
    const err = await resolveModelFiles(getModelEntry('classify-mobilenetv2'), modelDir).catch(
      (e) => e,
    );
    expect(err.message).toContain(join(modelDir, 'classify-mobilenetv2'));
  });
});

describe('verifyModelFiles', () => {
  test('passes files whose sha256 matches', async () => {
    await writeToy({ weights, labels });
    expect(await verifyModelFiles(entry, modelDir)).toHaveLength(2);
  });

  test('names each file whose bytes differ, with both checksums', async () => {
    await writeToy({ weights, labels: '["a","c"]' });
    const err = await verifyModelFiles(entry, modelDir).catch((e) => e);
    expect(err).toBeInstanceOf(ModelUnavailableError);
    expect(err.problems).toEqual([
      `labels.json has sha256 ${sha256('["a","c"]')}, expected ${sha256(labels)}`,
    ]);
  });
});

const mobilenet = await testModel('classify-mobilenetv2');

describe.skipIf(mustSkip(mobilenet))(
  modelSuiteName('verifyModelFiles on real weights', mobilenet),
  () => {
    test('the shared MobileNetV2 files match the registry', async () => {
      if (!mobilenet.available) throw new Error('unreachable: suite is skipped');
      const files = await verifyModelFiles(
        getModelEntry('classify-mobilenetv2'),
        mobilenet.modelDir,
      );
      expect(files.map((f) => f.name)).toEqual([
        'mobilenetv2-12-int8.onnx',
        'imagenet-simple-labels.json',
      ]);
    });
  },
);
