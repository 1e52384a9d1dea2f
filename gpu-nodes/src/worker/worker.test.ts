import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeadLetter,
  type ImageReindexRequested,
  makeEvent,
  Subjects,
  type TagScore,
} from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { createEmbeddedEventBus } from '@aex/shared/ports/event-bus/embedded';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { parseWorkerConfig } from '../config.ts';
import { type RunningWorker, startWorker, WORKER_CONSUMERS } from '../mod.ts';
import { FIXTURE_IMAGES, modelSuiteName, mustSkip, testModel } from '../models/testing.ts';
import type { TaskOutcome } from '../tasks/task.ts';
import { createTagsTask } from './tags-task.ts';
import { TASK_SUBJECTS } from './task-consumer.ts';
import type { LoadedTask, TaskFactory } from './task-loader.ts';
import { distinctPreviews, ingest, readAll, readEvents } from './testing.ts';

const model = await testModel('classify-mobilenetv2');
const skip = mustSkip(model, true);

/**
 * A stand-in for another task, built on the real tagger: the same model and batching, with
 * the other task's result shape (its factory may not exist yet on this checkout).
 */
function standIn(name: 'clip' | 'faces' | 'ocr'): TaskFactory {
  return async (options) => {
    const tags = await createTagsTask(options);
    const shape = (t: TagScore[]): unknown => {
      if (name === 'clip') {
        const v = t.map((s) => s.score).concat(1);
        const norm = Math.hypot(...v);
        return v.map((x) => x / norm);
      }
      if (name === 'faces') return [];
      return t.map((s) => ({
        text: s.label,
        confidence: s.score,
        polygon: [
          [0, 0],
          [1, 0],
          [1, 0.1],
          [0, 0.1],
        ],
      }));
    };
    return {
      ...tags,
      name,
      detector: tags.model,
      async run(images) {
        const out = await tags.run(images);
        return out.map(
          (r): TaskOutcome<unknown> => (r.ok ? { ok: true, result: shape(r.result) } : r),
        );
      },
    } satisfies LoadedTask;
  };
}

describe.skipIf(skip)(modelSuiteName('worker on the embedded bus', model, true), () => {
  let dir: string;
  let bus: EventBus;
  let blobs: BlobStore;
  let worker: RunningWorker | undefined;
  let log = capturingLogger();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aex-worker-'));
    bus = createEmbeddedEventBus({ path: join(dir, 'bus.sqlite') });
    blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
    log = capturingLogger();
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await bus.close();
    await blobs.close();
    await rm(dir, { recursive: true, force: true });
  });

  const config = (env: Record<string, string> = {}) =>
    parseWorkerConfig({
      AEX_DATA_DIR: dir,
      AEX_MODEL_DIR: process.env.AEX_MODEL_DIR,
      AEX_WORKER_TASKS: 'tags',
      ...env,
    });

  test('an ingested cat becomes one tags.computed event naming the model', async () => {
    const [preview] = await distinctPreviews(1);
    const event = await ingest(bus, blobs, preview as Uint8Array);
    worker = await startWorker(config(), { log, bus, blobs });
    expect(worker.tasks).toEqual([
      { task: 'tags', model: 'classify-mobilenetv2@12-int8', provider: 'cpu' },
    ]);
    const results = await readEvents(bus, Subjects.imageTagsComputed, 1);
    expect(results).toHaveLength(1);
    const result = results[0];
    if (result?.type !== Subjects.imageTagsComputed) throw new Error('expected tags.computed');
    expect(result.imageId).toBe(event.imageId);
    expect(result.model).toEqual({ id: 'classify-mobilenetv2', version: '12-int8' });
    expect(result.tags[0]?.label).toBe('tabby cat');
  });

  test('waiting images are run in batches of AEX_WORKER_BATCH, one result each', async () => {
    const previews = await distinctPreviews(10);
    const events = [];
    for (const p of previews) events.push(await ingest(bus, blobs, p));
    worker = await startWorker(config({ AEX_WORKER_BATCH: '4', AEX_WORKER_CONCURRENCY: '1' }), {
      log,
      bus,
      blobs,
    });
    const results = await readEvents(bus, Subjects.imageTagsComputed, 10);
    expect(results.map((r) => r.imageId).sort()).toEqual(events.map((e) => e.imageId).sort());
    const sizes = log.lines.filter((l) => l.msg === 'batch settled').map((l) => l.fields.size);
    expect(sizes.slice(0, 2)).toEqual([4, 4]);
    expect(sizes.reduce((a, b) => Number(a) + Number(b), 0)).toBe(10);
  });

  test('a missing preview is skipped; a corrupt one is dead-lettered while its batch flows on', async () => {
    const [a, b] = await distinctPreviews(2);
    const ok1 = await ingest(bus, blobs, a as Uint8Array);
    const gone = await ingest(bus, blobs, null);
    const corrupt = await ingest(
      bus,
      blobs,
      new Uint8Array(await readFile(join(FIXTURE_IMAGES, 'exif-samples/jpg/corrupted.jpg'))),
    );
    const ok2 = await ingest(bus, blobs, b as Uint8Array);
    worker = await startWorker(config(), { log, bus, blobs });
    const letters = (await readAll(bus, `aex.dlq.${WORKER_CONSUMERS.tags}`, 1)).map((m) =>
      DeadLetter.parse(m),
    );
    expect(letters).toHaveLength(1);
    expect(letters[0]?.consumer).toBe('worker-tags');
    expect(letters[0]?.deliveries).toBe(1);
    expect(letters[0]?.error).toContain(`tags cannot process image ${corrupt.imageId}`);
    expect(JSON.parse(letters[0]?.payload ?? '{}').imageId).toBe(corrupt.imageId);
    const results = await readEvents(bus, Subjects.imageTagsComputed, 2);
    expect(results.map((r) => r.imageId).sort()).toEqual([ok1.imageId, ok2.imageId].sort());
    expect(results.some((r) => r.imageId === gone.imageId)).toBe(false);
  });

  test('a reindex request is a job for its own task only, with a result of its own', async () => {
    const [preview] = await distinctPreviews(1);
    const first = await ingest(bus, blobs, preview as Uint8Array);
    const reindex = (task: ImageReindexRequested['task']) =>
      makeEvent<ImageReindexRequested>({
        type: Subjects.imageReindexRequested,
        imageId: first.imageId,
        task,
        sha256: first.sha256,
        previewKey: first.previewKey,
      });
    await publishEvent(bus, reindex('tags'));
    await publishEvent(bus, reindex('ocr'));
    worker = await startWorker(config({ AEX_WORKER_TASKS: 'tags,clip' }), {
      log,
      bus,
      blobs,
      factories: { clip: standIn('clip') },
    });
    const tags = await readEvents(bus, Subjects.imageTagsComputed, 2);
    expect(tags.map((r) => r.imageId)).toEqual([first.imageId, first.imageId]);
    expect(new Set(tags.map((r) => r.id)).size).toBe(2); // the reindex result is a new event
    // clip saw the ingest only: neither the tags nor the ocr reindex request is its job.
    expect(await readEvents(bus, Subjects.imageEmbeddingComputed, 1)).toHaveLength(1);
  });

  test('every task runs on its own consumer and publishes its own result event', async () => {
    const previews = await distinctPreviews(3);
    const events = [];
    for (const p of previews) events.push(await ingest(bus, blobs, p));
    worker = await startWorker(config({ AEX_WORKER_TASKS: 'all' }), {
      log,
      bus,
      blobs,
      factories: { clip: standIn('clip'), faces: standIn('faces'), ocr: standIn('ocr') },
    });
    expect(worker.tasks.map((t) => t.task)).toEqual(['tags', 'clip', 'faces', 'ocr']);
    const ids = events.map((e) => e.imageId).sort();
    for (const subject of [
      Subjects.imageTagsComputed,
      Subjects.imageEmbeddingComputed,
      Subjects.imageFacesDetected,
      Subjects.imageTextRecognized,
    ]) {
      const results = await readEvents(bus, subject, 3);
      expect(results.map((r) => r.imageId).sort()).toEqual(ids);
      for (const r of results) {
        if (r.type === Subjects.imageFacesDetected || r.type === Subjects.imageTextRecognized) {
          expect(r.detector).toEqual({ id: 'classify-mobilenetv2', version: '12-int8' });
        }
      }
    }
    const consumers = new Set(
      log.lines.filter((l) => l.msg === 'batch settled').map((l) => l.fields.consumer),
    );
    expect([...consumers].sort()).toEqual(Object.values(WORKER_CONSUMERS).sort());
  });

  test('a model that throws is retried, and the images still get their results', async () => {
    const [preview] = await distinctPreviews(1);
    const event = await ingest(bus, blobs, preview as Uint8Array);
    let calls = 0;
    const flaky: TaskFactory = async (options) => {
      const tags = await createTagsTask(options);
      return {
        ...tags,
        async run(images) {
          if (++calls === 1) throw new Error('CUDA out of memory');
          return tags.run(images);
        },
      };
    };
    worker = await startWorker(config(), { log, bus, blobs, factories: { tags: flaky } });
    const results = await readEvents(bus, Subjects.imageTagsComputed, 1);
    expect(results.map((r) => r.imageId)).toEqual([event.imageId]);
    const warn = log.lines.find((l) => l.msg === 'job will be retried');
    expect(warn?.fields).toMatchObject({ consumer: 'worker-tags', deliveryCount: 1 });
    expect(String(warn?.fields.reason)).toContain('CUDA out of memory');
  });

  test('stop() finishes and acks the batch in flight before the model is closed', async () => {
    const [preview] = await distinctPreviews(1);
    await ingest(bus, blobs, preview as Uint8Array);
    const order: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated: TaskFactory = async (options) => {
      const tags = await createTagsTask(options);
      return {
        ...tags,
        async run(images) {
          order.push('run');
          await gate;
          const out = await tags.run(images);
          order.push('ran');
          return out;
        },
        async close() {
          order.push('close');
          await tags.close();
        },
      };
    };
    worker = await startWorker(config(), { log, bus, blobs, factories: { tags: gated } });
    while (!order.includes('run')) await Bun.sleep(10);
    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    worker = undefined;
    await Bun.sleep(150);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(order).toEqual(['run', 'ran', 'close']);
    const probe = await bus.consumer({
      durable: 'worker-tags',
      subjects: TASK_SUBJECTS,
      maxDeliver: 6,
      ackWaitMs: 60_000,
    });
    expect(await probe.pending()).toBe(0); // acked, not left to the ack wait
    expect(await readEvents(bus, Subjects.imageTagsComputed, 1)).toHaveLength(1);
  });

  test('AEX_WORKER_TASKS=none runs nothing; a missing model or module is skipped with one line each', async () => {
    worker = await startWorker(config({ AEX_WORKER_TASKS: 'none' }), { log, bus, blobs });
    expect(worker.tasks).toEqual([]);
    await worker.stop();
    const missing = capturingLogger();
    worker = await startWorker(config({ AEX_MODEL_DIR: join(dir, 'no-models') }), {
      log: missing,
      bus,
      blobs,
    });
    expect(worker.tasks).toEqual([]);
    const warnings = missing.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain('tags task skipped: its model is not available');
    expect(String(warnings[0]?.fields.modelDir)).toContain('no-models');
  });
});
