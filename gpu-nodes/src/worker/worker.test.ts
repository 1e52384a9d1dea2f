import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AexEvent,
  DeadLetter,
  derivedKey,
  type ImageIngested,
  makeEvent,
  newId,
  originalKey,
  Subjects,
} from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { createEmbeddedEventBus } from '@aex/shared/ports/event-bus/embedded';
import type { Consumer, EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import sharp from 'sharp';
import { parseWorkerConfig } from '../config.ts';
import { type RunningWorker, startWorker, WORKER_CONSUMERS } from '../mod.ts';
import { FIXTURE_IMAGES, modelSuiteName, mustSkip, testModel } from '../models/testing.ts';

const model = await testModel('classify-mobilenetv2');
const skip = mustSkip(model, true);

describe.skipIf(skip)(modelSuiteName('tags worker on the embedded bus', model, true), () => {
  let dir: string;
  let bus: EventBus;
  let blobs: BlobStore;
  let worker: RunningWorker | undefined;
  const probes: Consumer[] = [];
  const log = capturingLogger();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aex-worker-'));
    bus = createEmbeddedEventBus({ path: join(dir, 'bus.sqlite') });
    blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });
  afterAll(async () => {
    for (const p of probes) await p.close();
    await bus.close();
    await blobs.close();
    await rm(dir, { recursive: true, force: true });
  });

  const config = (env: Record<string, string> = {}) =>
    parseWorkerConfig({ AEX_DATA_DIR: dir, AEX_MODEL_DIR: process.env.AEX_MODEL_DIR, ...env });

  /** Stores `bytes` as an image's preview and publishes its `aex.image.ingested`. */
  async function ingest(bytes: Uint8Array | null): Promise<ImageIngested> {
    const sha = new Bun.CryptoHasher('sha256').update(newId()).digest('hex');
    const event = makeEvent<ImageIngested>({
      type: Subjects.imageIngested,
      imageId: newId(),
      sha256: sha,
      mime: 'image/jpeg',
      width: 300,
      height: 168,
      originalKey: originalKey(sha),
      previewKey: derivedKey(sha, 'preview'),
      thumbKey: derivedKey(sha, 'thumb'),
    });
    if (bytes) await blobs.put(event.previewKey, bytes, { contentType: 'image/webp' });
    await publishEvent(bus, event);
    return event;
  }

  /** Reads every message on `subject` (a fresh durable sees all stored ones). */
  async function messages(
    subject: string,
    expected: number,
    timeoutMs = 15_000,
  ): Promise<unknown[]> {
    const probe = await bus.consumer({
      durable: `probe-${newId().slice(-12)}`,
      subjects: [subject],
    });
    probes.push(probe);
    const out: unknown[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < expected && Date.now() < deadline) {
      for (const d of await probe.fetch(10, 200)) {
        out.push(JSON.parse(new TextDecoder().decode(d.data)));
        await d.ack();
      }
    }
    // Nothing more arrives after the expected count.
    for (const d of await probe.fetch(10, 300))
      out.push(JSON.parse(new TextDecoder().decode(d.data)));
    return out;
  }

  test('an ingested cat becomes one tags.computed event naming the model', async () => {
    const preview = await sharp(await readFile(join(FIXTURE_IMAGES, 'objects/cat.jpg')))
      .webp()
      .toBuffer();
    const event = await ingest(new Uint8Array(preview));
    worker = await startWorker(config(), { log, bus, blobs });
    expect(worker.tasks).toEqual([
      { task: 'tags', model: 'classify-mobilenetv2@12-int8', provider: 'cpu' },
    ]);
    const results = (await messages(Subjects.imageTagsComputed, 1)).map((m) => AexEvent.parse(m));
    expect(results).toHaveLength(1);
    const result = results[0];
    if (result?.type !== Subjects.imageTagsComputed) throw new Error('expected tags.computed');
    expect(result.imageId).toBe(event.imageId);
    expect(result.model).toEqual({ id: 'classify-mobilenetv2', version: '12-int8' });
    expect(result.tags[0]?.label).toBe('tabby cat');
  });

  test('a missing preview is skipped, and a corrupt one is dead-lettered with its reason', async () => {
    const gone = await ingest(null);
    const corrupt = await ingest(
      new Uint8Array(await readFile(join(FIXTURE_IMAGES, 'exif-samples/jpg/corrupted.jpg'))),
    );
    worker = await startWorker(config(), { log, bus, blobs });
    const letters = (await messages(`aex.dlq.${WORKER_CONSUMERS.tags}`, 1)).map((m) =>
      DeadLetter.parse(m),
    );
    expect(letters).toHaveLength(1);
    expect(letters[0]?.consumer).toBe(WORKER_CONSUMERS.tags);
    expect(letters[0]?.subject).toBe(Subjects.imageIngested);
    expect(letters[0]?.error).toContain(corrupt.imageId);
    expect(JSON.parse(letters[0]?.payload ?? '{}').imageId).toBe(corrupt.imageId);
    const results = (await messages(Subjects.imageTagsComputed, 1)).map((m) => AexEvent.parse(m));
    expect(results.some((r) => r.imageId === gone.imageId || r.imageId === corrupt.imageId)).toBe(
      false,
    );
  });

  test('AEX_WORKER_TASKS=none runs nothing; a missing model is skipped with one clear line', async () => {
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
    const line = missing.lines.find((l) => l.level === 'warn');
    expect(line?.msg).toContain('tags task skipped');
    expect(String(line?.fields.modelDir)).toContain('no-models');
  });
});

describe('worker config', () => {
  test('tasks and providers are validated with the variable named', () => {
    expect(parseWorkerConfig({ AEX_WORKER_TASKS: 'all' }).AEX_WORKER_TASKS).toEqual(['tags']);
    expect(parseWorkerConfig({ AEX_WORKER_TASKS: 'none' }).AEX_WORKER_TASKS).toEqual([]);
    expect(() => parseWorkerConfig({ AEX_WORKER_TASKS: 'tags,ocr-magic' })).toThrow(
      /AEX_WORKER_TASKS: unknown task ocr-magic/,
    );
    expect(
      parseWorkerConfig({ AEX_EXECUTION_PROVIDERS: 'TensorRT, cuda,cpu' }).AEX_EXECUTION_PROVIDERS,
    ).toEqual(['tensorrt', 'cuda', 'cpu']);
    expect(() => parseWorkerConfig({ AEX_EXECUTION_PROVIDERS: 'cuda,rocm' })).toThrow(
      /AEX_EXECUTION_PROVIDERS: .*rocm/,
    );
  });
});
