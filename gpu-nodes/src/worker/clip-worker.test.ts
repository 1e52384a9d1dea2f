import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestSubjects, Subjects, TextEmbedReply } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import { createDiskBlobStore } from '@aex/shared/ports/blob-store/disk';
import { createEmbeddedEventBus } from '@aex/shared/ports/event-bus/embedded';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { createEmbeddedRpc } from '@aex/shared/ports/rpc/embedded';
import type { Rpc } from '@aex/shared/ports/rpc/rpc';
import { capturingLogger } from '@aex/shared/testing/capturing-logger';
import { parseWorkerConfig } from '../config.ts';
import { type RunningWorker, startWorker } from '../mod.ts';
import { fixturesAvailable } from '../models/testing.ts';
import {
  clipTokenizerDir,
  type GeneratedClipModels,
  generateClipModels,
} from '../tasks/clip/testing/generate-clip-models.ts';
import { distinctPreviews, ingest, readEvents } from './testing.ts';

// The CLIP path through the worker, end to end, on the generated CLIP-shaped models (no CLIP
// weights are available offline): an ingested image becomes an embedding event, and a search
// query is answered over request/reply in the same space.
const ready = clipTokenizerDir() !== null && fixturesAvailable;
const title = ready
  ? 'worker with CLIP on the generated models'
  : 'worker with CLIP (skipped: no clip-tokenizer in AEX_MODEL_DIR, or no fixture images)';

describe.skipIf(!ready)(title, () => {
  let models: GeneratedClipModels;
  let dir: string;
  let bus: EventBus;
  let blobs: BlobStore;
  let rpc: Rpc;
  let worker: RunningWorker;

  beforeAll(async () => {
    models = await generateClipModels();
    dir = await mkdtemp(join(tmpdir(), 'aex-clip-worker-'));
    bus = createEmbeddedEventBus({ path: join(dir, 'bus.sqlite') });
    blobs = createDiskBlobStore({ root: join(dir, 'blobs') });
    rpc = createEmbeddedRpc();
    const config = parseWorkerConfig({
      AEX_DATA_DIR: dir,
      AEX_MODEL_DIR: models.modelDir,
      AEX_WORKER_TASKS: 'clip',
    });
    worker = await startWorker(config, { log: capturingLogger(), bus, blobs, rpc });
  });
  afterAll(async () => {
    await worker?.stop();
    await rpc?.close();
    await bus?.close();
    await blobs?.close();
    await models?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  test('the image task and the text encoder both run, in one embedding space', () => {
    expect(worker.tasks.map((t) => [t.task, t.model])).toEqual([
      ['clip', 'clip-vit-b32-openai@immich-openai'],
      ['clip-text', 'clip-vit-b32-openai@immich-openai'],
    ]);
  });

  test('ingested images become normalised 512-d embedding events; queries are answered', async () => {
    const previews = await distinctPreviews(3);
    const events = [];
    for (const p of previews) events.push(await ingest(bus, blobs, p));
    const results = await readEvents(bus, Subjects.imageEmbeddingComputed, 3);
    expect(results.map((r) => r.imageId).sort()).toEqual(events.map((e) => e.imageId).sort());
    const first = results[0];
    if (first?.type !== Subjects.imageEmbeddingComputed) throw new Error('expected embeddings');
    expect(first.vector).toHaveLength(512);
    expect(Math.hypot(...first.vector)).toBeCloseTo(1, 4);

    const request = new TextEncoder().encode(JSON.stringify({ text: 'a photo of a cat' }));
    const bytes = await rpc.request(RequestSubjects.textEmbed, request, { timeoutMs: 5_000 });
    const reply = TextEmbedReply.parse(JSON.parse(new TextDecoder().decode(bytes)));
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.model).toEqual(first.model);
    expect(reply.vector).toHaveLength(512);
    expect(Math.hypot(...reply.vector)).toBeCloseTo(1, 4);
  });
});
