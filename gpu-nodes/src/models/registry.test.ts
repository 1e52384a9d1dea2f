import { describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getModelEntry, MODEL_REGISTRY, ModelEntry, UnknownModelError } from './registry.ts';

const valid = {
  id: 'example',
  version: '1',
  task: 'tags',
  files: [
    {
      name: 'm.onnx',
      role: 'model',
      url: 'https://example.com/m.onnx',
      sha256: 'a'.repeat(64),
    },
  ],
  input: { name: 'input', type: 'float32', shape: [-1, 3, 8, 8] },
  license: 'MIT',
};

describe('model registry', () => {
  test('ids are unique', () => {
    const ids = MODEL_REGISTRY.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('the tagger entry carries the version, files and ImageNet preprocessing', () => {
    const entry = getModelEntry('classify-mobilenetv2');
    expect(entry).toMatchObject({ version: '12-int8', task: 'tags' });
    expect(entry.files.map((f) => [f.name, f.role])).toEqual([
      ['mobilenetv2-12-int8.onnx', 'model'],
      ['imagenet-simple-labels.json', 'labels'],
    ]);
    expect(entry.input).toEqual({ name: 'input', type: 'float32', shape: [-1, 3, 224, 224] });
    expect(entry.preprocess).toMatchObject({
      width: 224,
      height: 224,
      resizeShorterSide: 256,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
  });

  test('an unknown id lists the known ones', () => {
    expect(() => getModelEntry('nope')).toThrow(UnknownModelError);
    expect(() => getModelEntry('nope')).toThrow('known models: classify-mobilenetv2');
  });

  test('the schema accepts a well-formed entry', () => {
    expect(ModelEntry.safeParse(valid).success).toBe(true);
  });

  test.each([
    ['a short sha256', { files: [{ ...valid.files[0], sha256: 'abc' }] }],
    ['a plain-http url', { files: [{ ...valid.files[0], url: 'http://example.com/m.onnx' }] }],
    ['a file name with a directory', { files: [{ ...valid.files[0], name: '../m.onnx' }] }],
    ['no model file', { files: [{ ...valid.files[0], role: 'labels' }] }],
    ['two model files', { files: [valid.files[0], { ...valid.files[0], name: 'n.onnx' }] }],
    ['an unknown task', { task: 'captions' }],
    ['an upper-case id', { id: 'Example' }],
  ])('the schema rejects %s', (_, change) => {
    expect(ModelEntry.safeParse({ ...valid, ...change }).success).toBe(false);
  });
});

// The registry's checksums must be those of the files the tests run against; a typo here
// would make every user's download fail verification.
const sumsFile = process.env.AEX_MODEL_DIR ? join(process.env.AEX_MODEL_DIR, 'SHA256SUMS') : '';
const haveSums = sumsFile !== '' && existsSync(sumsFile);

describe.skipIf(!haveSums)(
  haveSums ? 'registry checksums' : 'registry checksums (skipped: no AEX_MODEL_DIR/SHA256SUMS)',
  () => {
    test('match SHA256SUMS for every file it lists (and it lists the test models)', async () => {
      const sums = new Map(
        (await readFile(sumsFile, 'utf8'))
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => {
            const [sha, path] = line.split(/\s+/);
            return [path, sha] as const;
          }),
      );
      let checked = 0;
      for (const entry of MODEL_REGISTRY) {
        for (const file of entry.files) {
          const listed = sums.get(`${entry.id}/${file.name}`);
          if (listed === undefined) continue;
          checked += 1;
          expect(`${entry.id}/${file.name} ${listed}`).toBe(
            `${entry.id}/${file.name} ${file.sha256}`,
          );
        }
      }
      // MobileNetV2 (model + labels), YuNet and MobileFaceNet are in ../shared/models.
      expect(checked).toBeGreaterThanOrEqual(4);
    });

    test('files shipped in an npm package match the installed copy', async () => {
      const { createHash } = await import('node:crypto');
      const { installedNpmFile } = await import('./model-files.ts');
      for (const entry of MODEL_REGISTRY) {
        for (const file of entry.files) {
          if (!file.npm) continue;
          const path = installedNpmFile(file.npm);
          if (!path) throw new Error(`${file.npm.package}@${file.npm.version} is not installed`);
          const sha = createHash('sha256')
            .update(new Uint8Array(await Bun.file(path).arrayBuffer()))
            .digest('hex');
          expect(`${entry.id}/${file.name} ${sha}`).toBe(`${entry.id}/${file.name} ${file.sha256}`);
        }
      }
    });
  },
);
