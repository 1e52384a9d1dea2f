import {
  AexEvent,
  derivedKey,
  type ImageIngested,
  makeEvent,
  newId,
  originalKey,
  Subjects,
} from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import sharp from 'sharp';
import { fixture } from '../models/testing.ts';

// Test support for the worker suites: previews in a blob store, ingested events on a bus,
// and reading back what the workers published.

const SOURCES = ['objects/cat.jpg', 'objects/tench_n01440764.png', 'objects/rose.jpg'];

/**
 * `count` distinct previews: the cat, tench and rose fixtures in turn, each re-encoded to WebP
 * at its own width, so every image has its own bytes (and its own result).
 */
export async function distinctPreviews(count: number, baseWidth = 320): Promise<Uint8Array[]> {
  const originals = await Promise.all(SOURCES.map((s) => fixture(s)));
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const source = originals[i % originals.length] as Uint8Array;
      const webp = await sharp(source)
        .resize({ width: baseWidth + 4 * i })
        .webp({ quality: 80 })
        .toBuffer();
      return new Uint8Array(webp);
    }),
  );
}

/** Stores `preview` (unless null: a deleted image) and publishes the image's `aex.image.ingested`. */
export async function ingest(
  bus: EventBus,
  blobs: BlobStore,
  preview: Uint8Array | null,
): Promise<ImageIngested> {
  const sha = new Bun.CryptoHasher('sha256').update(newId()).digest('hex');
  const event = makeEvent<ImageIngested>({
    type: Subjects.imageIngested,
    imageId: newId(),
    sha256: sha,
    mime: 'image/webp',
    width: 320,
    height: 240,
    originalKey: originalKey(sha),
    previewKey: derivedKey(sha, 'preview'),
    thumbKey: derivedKey(sha, 'thumb'),
  });
  if (preview) await blobs.put(event.previewKey, preview, { contentType: 'image/webp' });
  await publishEvent(bus, event);
  return event;
}

/**
 * Every message stored on `subject`, read by a fresh durable (which starts at the first one):
 * waits until `expected` arrived or `timeoutMs` passed, then a little longer for extras.
 */
export async function readAll(
  bus: EventBus,
  subject: string,
  expected: number,
  timeoutMs = 20_000,
): Promise<unknown[]> {
  const probe = await bus.consumer({ durable: `probe-${newId().slice(-12)}`, subjects: [subject] });
  const out: unknown[] = [];
  const take = async (waitMs: number) => {
    for (const d of await probe.fetch(64, waitMs)) {
      out.push(JSON.parse(new TextDecoder().decode(d.data)));
      await d.ack();
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (out.length < expected && Date.now() < deadline) await take(200);
  await take(300); // nothing more may arrive after the expected count
  await probe.close();
  return out;
}

/** `readAll`, parsed as events. */
export async function readEvents(
  bus: EventBus,
  subject: string,
  expected: number,
  timeoutMs?: number,
): Promise<AexEvent[]> {
  return (await readAll(bus, subject, expected, timeoutMs)).map((m) => AexEvent.parse(m));
}
