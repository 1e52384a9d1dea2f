import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestSubjects, Subjects, TextEmbedReply } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { createEmbeddedEventBus } from '@aex/shared/ports/event-bus/embedded';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { createEmbeddedRpc } from '@aex/shared/ports/rpc/embedded';
import { RpcUnavailableError } from '@aex/shared/ports/rpc/rpc';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { parseWorkerConfig } from '../config.ts';
import { startWorker } from '../mod.ts';
import { modelSuiteName, mustSkip, testModel } from '../models/testing.ts';
import { inferBatch } from './batch-job.ts';
import { createTagsTask } from './tags-task.ts';
import { FactoryMissingError, importFactory, type LoadedTask, skipLine } from './task-loader.ts';
import { distinctPreviews, ingest, readAll, readEvents } from './testing.ts';
import { embedText, type TextEmbedder } from './text-embed-responder.ts';

const model = await testModel('classify-mobilenetv2');
const log = capturingLogger();

/**
 * A small real text embedder for the request/reply path: hashed character trigrams, L2
 * normalised (the CLIP text encoder's shape without its weights).
 */
const trigramEmbedder: TextEmbedder = {
  model: { id: 'trigram-64', version: '1' },
  provider: 'cpu',
  async embed(texts) {
    return texts.map((text) => {
      const v = new Float32Array(64);
      const s = ` ${text.toLowerCase()} `;
      for (let i = 0; i + 3 <= s.length; i++) {
        const at = Bun.hash.crc32(s.slice(i, i + 3)) % 64;
        v[at] = (v[at] ?? 0) + 1;
      }
      const norm = Math.hypot(...v) || 1;
      return v.map((x) => x / norm);
    });
  },
  async close() {},
};
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('text embedding replies', () => {
  test('a query gets its normalised vector and the model that made it', async () => {
    const reply = await embedText(trigramEmbedder, encode({ text: 'a cat on a sofa' }), log);
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.model).toEqual({ id: 'trigram-64', version: '1' });
    expect(reply.vector).toHaveLength(64);
    expect(Math.hypot(...reply.vector)).toBeCloseTo(1, 5);
  });

  test.each([
    ['not JSON', new TextEncoder().encode('{'), 'invalid request: not JSON'],
    ['an empty text', encode({ text: '' }), 'invalid request: text'],
    [
      'another model version',
      encode({ text: 'cat', model: { id: 'trigram-64', version: '2' } }),
      'model trigram-64@2 is not loaded here',
    ],
  ])('%s is answered with ok: false and why', async (_what, payload, error) => {
    const reply = await embedText(trigramEmbedder, payload, log);
    expect(reply.ok).toBe(false);
    expect(reply.ok ? '' : reply.error).toContain(error);
  });
});

test('a task module that is not in the build is reported as such', async () => {
  const err = await importFactory({ module: './no-such-task.ts', export: 'createIt' }).catch(
    (e) => e,
  );
  expect(err).toBeInstanceOf(FactoryMissingError);
  expect(skipLine('clip', err)).toBe('clip task skipped: not part of this build');
  const noExport = await importFactory({ module: './tags-task.ts', export: 'createIt' }).catch(
    (e: Error) => e,
  );
  expect((noExport as Error).message).toContain('has no createIt()');
});

describe.skipIf(mustSkip(model, true))(
  modelSuiteName('inferBatch and the worker', model, true),
  () => {
    let dir: string;
    let bus: EventBus;
    let blobs: BlobStore;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'aex-batch-'));
      bus = createEmbeddedEventBus({ path: join(dir, 'bus.sqlite') });
      blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
    });
    afterEach(async () => {
      await bus.close();
      await blobs.close();
      await rm(dir, { recursive: true, force: true });
    });
    const options = () => ({
      modelDir: process.env.AEX_MODEL_DIR as string,
      providers: ['cpu' as const],
      log,
    });

    test('a job run twice (a redelivery) publishes one result: the same id, dropped by the bus', async () => {
      const task = await createTagsTask(options());
      const [preview] = await distinctPreviews(1);
      const event = await ingest(bus, blobs, preview as Uint8Array);
      const deps = { bus, blobs, task, durable: 'worker-tags' };
      expect(await inferBatch(deps, [event], { log })).toEqual([{ status: 'success' }]);
      expect(await inferBatch(deps, [event], { log })).toEqual([{ status: 'success' }]);
      expect(await readAll(bus, Subjects.imageTagsComputed, 1)).toHaveLength(1);
      await task.close();
    });

    test('a result the event contract refuses fails that image with the reason', async () => {
      const tags = await createTagsTask(options());
      const broken: LoadedTask = {
        ...tags,
        name: 'clip',
        run: async (images) => images.map(() => ({ ok: true, result: [Number.NaN, 1] })),
      };
      const [preview] = await distinctPreviews(1);
      const event = await ingest(bus, blobs, preview as Uint8Array);
      const [outcome] = await inferBatch(
        { bus, blobs, task: broken, durable: 'worker-clip' },
        [event],
        { log },
      );
      expect(outcome?.status).toBe('failed');
      expect(outcome?.status === 'failed' && outcome.reason).toContain('is invalid: vector.0');
      await tags.close();
    });

    test('with CLIP in its tasks and an Rpc, the worker answers text-embed requests until stopped', async () => {
      const rpc = createEmbeddedRpc();
      const worker = await startWorker(
        parseWorkerConfig({ AEX_DATA_DIR: dir, AEX_WORKER_TASKS: 'clip' }),
        { log, bus, blobs, rpc, textEncoderFactory: async () => trigramEmbedder },
      );
      expect(worker.tasks.find((t) => t.task === 'clip-text')).toEqual({
        task: 'clip-text',
        model: 'trigram-64@1',
        provider: 'cpu',
      });
      const reply = TextEmbedReply.parse(
        JSON.parse(
          new TextDecoder().decode(
            await rpc.request(RequestSubjects.textEmbed, encode({ text: 'cat' }), {
              timeoutMs: 1_000,
            }),
          ),
        ),
      );
      expect(reply.ok).toBe(true);
      await worker.stop();
      await expect(
        rpc.request(RequestSubjects.textEmbed, encode({ text: 'cat' }), { timeoutMs: 500 }),
      ).rejects.toBeInstanceOf(RpcUnavailableError);
      await rpc.close();
    });

    test('every task whose code and model are on this machine runs on its real model', async () => {
      const local = capturingLogger();
      const [preview] = await distinctPreviews(1);
      const event = await ingest(bus, blobs, preview as Uint8Array);
      const worker = await startWorker(
        parseWorkerConfig({ AEX_DATA_DIR: dir, AEX_MODEL_DIR: process.env.AEX_MODEL_DIR }),
        { log: local, bus, blobs, rpc: createEmbeddedRpc() },
      );
      try {
        const running = worker.tasks.map((t) => t.task).filter((t) => t !== 'clip-text');
        const skipped = local.lines.filter((l) => /^\w+ task skipped/.test(l.msg ?? ''));
        // Each of the four either runs or says once why not.
        expect([...running, ...skipped.map((l) => l.fields.task)].sort()).toEqual(
          ['clip', 'faces', 'ocr', 'tags'].sort(),
        );
        expect(running).toContain('tags');
        const subjectOf = {
          tags: Subjects.imageTagsComputed,
          clip: Subjects.imageEmbeddingComputed,
          faces: Subjects.imageFacesDetected,
          ocr: Subjects.imageTextRecognized,
        } as const;
        for (const task of running as Array<keyof typeof subjectOf>) {
          const results = await readEvents(bus, subjectOf[task], 1, 60_000);
          expect(results.map((r) => r.imageId)).toEqual([event.imageId]);
        }
      } finally {
        await worker.stop();
      }
    }, 90_000);
  },
);
