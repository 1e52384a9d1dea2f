import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TagScore } from '@aex/shared';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { ModelUnavailableError } from '../../models/model-files.ts';
import { fixture, modelSuiteName, mustSkip, testModel } from '../../models/testing.ts';
import { createTagger, type Tagger, type TagResult } from './tagger.ts';

describe('createTagger without the model', () => {
  test('reports the missing model and how to get it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'aex-tagger-'));
    try {
      const err = await createTagger({
        modelDir: empty,
        providers: ['cpu'],
        log: capturingLogger(),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(ModelUnavailableError);
      expect(err.message).toContain(join(empty, 'classify-mobilenetv2'));
      expect(err.message).toContain('aex models pull classify-mobilenetv2');
    } finally {
      await rm(empty, { recursive: true });
    }
  });

  test('rejects a topK below 1 before touching the disk', async () => {
    const err = await createTagger({
      modelDir: '/nonexistent',
      providers: ['cpu'],
      log: capturingLogger(),
      topK: 0,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RangeError);
  });
});

const mobilenet = await testModel('classify-mobilenetv2');

describe.skipIf(mustSkip(mobilenet, true))(
  modelSuiteName('tagger on real images', mobilenet, true),
  () => {
    let tagger: Tagger;
    let cat: Uint8Array;
    let tench: Uint8Array;
    let rose: Uint8Array;
    const log = capturingLogger();

    beforeAll(async () => {
      if (!mobilenet.available) throw new Error('unreachable: suite is skipped');
      tagger = await createTagger({
        modelDir: mobilenet.modelDir,
        providers: ['cpu'],
        log,
        intraOpThreads: 2,
      });
      [cat, tench, rose] = await Promise.all([
        fixture('objects/cat.jpg'),
        fixture('objects/tench_n01440764.png'),
        fixture('objects/rose.jpg'),
      ]);
    });
    afterAll(() => tagger?.close());

    const tagsOf = (result: TagResult | undefined): TagScore[] => {
      if (!result?.ok) throw new Error(`expected tags, got ${JSON.stringify(result)}`);
      return result.tags;
    };

    test('names its model and provider, and logged the provider once', () => {
      expect(tagger.model).toEqual({ id: 'classify-mobilenetv2', version: '12-int8' });
      expect(tagger.provider).toBe('cpu');
      expect(log.lines.filter((l) => l.level === 'info').map((l) => l.fields)).toEqual([
        { model: 'classify-mobilenetv2@12-int8', provider: 'cpu' },
      ]);
    });

    test('a tabby cat is tagged "tabby cat"', async () => {
      const tags = tagsOf((await tagger.tag([cat]))[0]);
      expect(tags[0]?.label).toBe('tabby cat');
      expect(tags[0]?.score).toBeGreaterThan(0.5);
      // Every tag fits the event contract, and they come best first.
      for (const tag of tags) TagScore.parse(tag);
      expect(tags.map((t) => t.score)).toEqual(tags.map((t) => t.score).sort((a, b) => b - a));
    });

    test('a tench is tagged "tench"', async () => {
      const tags = tagsOf((await tagger.tag([tench]))[0]);
      expect(tags[0]?.label).toBe('tench');
      expect(tags[0]?.score).toBeGreaterThan(0.5);
    });

    test('roses, which ImageNet has no class for, get only unsure guesses', async () => {
      // Observed: stretcher 0.27, wool 0.17, tile roof 0.14, … — no class dominates.
      const tags = tagsOf((await tagger.tag([rose]))[0]);
      expect(tags.length).toBeGreaterThan(1);
      expect(tags[0]?.score).toBeLessThan(0.5);
      expect(tags.map((t) => t.label)).not.toContain('tabby cat');
      expect(tags.map((t) => t.label)).not.toContain('tench');
    });

    test('a batch gives each image the same tags as a run of its own', async () => {
      const alone = await Promise.all(
        [cat, tench, rose].map(async (img) => tagsOf((await tagger.tag([img]))[0])),
      );
      const batched = (await tagger.tag([cat, tench, rose])).map(tagsOf);
      expect(batched.map((tags) => tags.map((t) => t.label))).toEqual(
        alone.map((tags) => tags.map((t) => t.label)),
      );
      batched.forEach((tags, i) => {
        tags.forEach((tag, j) => {
          expect(Math.abs(tag.score - (alone[i]?.[j]?.score ?? Number.NaN))).toBeLessThan(1e-4);
        });
      });
    });

    test('an undecodable image fails alone; the others are still tagged', async () => {
      const corrupted = await fixture('exif-samples/jpg/corrupted.jpg');
      const random = crypto.getRandomValues(new Uint8Array(4096));
      const results = await tagger.tag([cat, corrupted, random, new Uint8Array(0), tench]);
      expect(results).toHaveLength(5);
      expect(tagsOf(results[0])[0]?.label).toBe('tabby cat');
      expect(tagsOf(results[4])[0]?.label).toBe('tench');
      for (const failed of results.slice(1, 4)) {
        expect(failed?.ok).toBe(false);
        expect(failed?.ok === false && failed.error).toStartWith('cannot decode image: ');
      }
    });

    test('a batch of nothing but bad images gives only errors', async () => {
      const results = await tagger.tag([new Uint8Array(0), new Uint8Array([1, 2, 3])]);
      expect(results.map((r) => r.ok)).toEqual([false, false]);
    });

    test('no images, no results', async () => {
      expect(await tagger.tag([])).toEqual([]);
    });

    test('topK and minScore bound the tags', async () => {
      if (!mobilenet.available) throw new Error('unreachable: suite is skipped');
      const strict = await createTagger({
        modelDir: mobilenet.modelDir,
        providers: ['cpu'],
        log: capturingLogger(),
        topK: 1,
        minScore: 0.9,
      });
      try {
        const [catTags, roseTags] = (await strict.tag([cat, rose])).map(tagsOf);
        // The cat scores ~0.77: below 0.9, so even the best label is dropped.
        expect(catTags).toEqual([]);
        expect(roseTags).toEqual([]);
        const loose = await createTagger({
          modelDir: mobilenet.modelDir,
          providers: ['cpu'],
          log: capturingLogger(),
          topK: 2,
          minScore: 0,
        });
        const [tags] = (await loose.tag([cat])).map(tagsOf);
        await loose.close();
        expect(tags?.map((t) => t.label)).toEqual(['tabby cat', 'tiger cat']);
      } finally {
        await strict.close();
      }
    });
  },
);
