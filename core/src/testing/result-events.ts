import {
  type DetectedFace,
  type ImageEmbeddingComputed,
  type ImageFacesDetected,
  type ImageTagsComputed,
  type ImageTextRecognized,
  type ModelRef,
  makeEvent,
  newId,
  Subjects,
  UploadResult,
} from '@aex/shared';
import { publishEvent } from '@aex/shared/ports/event-bus/run-consumer';
import sharp from 'sharp';
import type { NewImageRow } from '../db/schema.ts';
import type { CoreHarness } from './core-harness.ts';

/** Polls `check` until it holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(25);
  }
  return check();
}

/** Uploads `n` small images of different colours through the API; returns their ids. */
export async function uploadImages(h: CoreHarness, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const png = await sharp({
      create: {
        width: 24,
        height: 16,
        channels: 3,
        background: { r: (i * 53) % 256, g: (i * 97 + 40) % 256, b: (i * 151 + 80) % 256 },
      },
    })
      .png()
      .toBuffer();
    const res = await h.request('/api/v1/images', { method: 'POST', body: png });
    if (res.status >= 300) throw new Error(`upload ${i} failed: ${res.status} ${await res.text()}`);
    ids.push(UploadResult.parse(await res.json()).image.id);
  }
  return ids;
}

/** An image row with only what the table requires, for tests that write the store directly. */
export function minimalImageRow(): NewImageRow {
  const sha256 = (newId() + newId()).replaceAll('-', '').slice(0, 64);
  return {
    id: newId(),
    sha256,
    byteSize: 1,
    mime: 'image/png',
    format: 'png',
    width: 10,
    height: 10,
    thumbhash: 'AAAA',
    originalKey: `originals/${sha256.slice(0, 2)}/${sha256}`,
    thumbKey: `derived/${sha256}/thumb.webp`,
    previewKey: `derived/${sha256}/preview.webp`,
  };
}

/** A unit vector in the direction of `v`. */
export function unit(...v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** A face whose box starts at `x`, with five landmarks inside it. */
export function face(x: number, embedding: number[], score = 0.9): DetectedFace {
  return {
    box: { x, y: 0.2, width: 0.1, height: 0.15 },
    landmarks: [
      [x + 0.03, 0.25],
      [x + 0.07, 0.25],
      [x + 0.05, 0.28],
      [x + 0.03, 0.31],
      [x + 0.07, 0.31],
    ],
    score,
    embedding,
  };
}

/** Result events as a worker makes them; `occurredAt` orders results of one version. */
export const resultEvents = {
  tags: (imageId: string, model: ModelRef, labels: string[], occurredAt?: Date) =>
    makeEvent<ImageTagsComputed>({
      type: Subjects.imageTagsComputed,
      imageId,
      model,
      tags: labels.map((label, i) => ({ label, score: 0.9 - i / 10 })),
      occurredAt,
    }),
  faces: (imageId: string, model: ModelRef, faces: DetectedFace[], occurredAt?: Date) =>
    makeEvent<ImageFacesDetected>({
      type: Subjects.imageFacesDetected,
      imageId,
      model,
      detector: { id: 'face-detect-yunet', version: '2026may' },
      faces,
      occurredAt,
    }),
  text: (imageId: string, model: ModelRef, lines: string[], occurredAt?: Date) =>
    makeEvent<ImageTextRecognized>({
      type: Subjects.imageTextRecognized,
      imageId,
      model,
      detector: { id: 'ocr-ppocrv4-det', version: 'v4' },
      lines: lines.map((text, i) => ({
        text,
        confidence: 0.95,
        polygon: [
          [0.1, 0.1 * i],
          [0.9, 0.1 * i],
          [0.9, 0.1 * i + 0.08],
          [0.1, 0.1 * i + 0.08],
        ],
      })),
      occurredAt,
    }),
  embedding: (imageId: string, model: ModelRef, vector: number[], occurredAt?: Date) =>
    makeEvent<ImageEmbeddingComputed>({
      type: Subjects.imageEmbeddingComputed,
      imageId,
      model,
      vector,
      occurredAt,
    }),
};

/** Publishes results on the harness's bus as a worker would. */
export function resultPublisher(h: CoreHarness) {
  return {
    tags: (imageId: string, model: ModelRef, labels: string[]) =>
      publishEvent(h.bus, resultEvents.tags(imageId, model, labels)),
    embedding: (imageId: string, model: ModelRef, vector: number[]) =>
      publishEvent(h.bus, resultEvents.embedding(imageId, model, vector)),
    /** One face per `x`, scores 0.99, 0.98, …, embeddings in different directions. */
    faces: (imageId: string, model: ModelRef, xs: number[]) =>
      publishEvent(
        h.bus,
        resultEvents.faces(
          imageId,
          model,
          xs.map((x, i) => face(x, unit(1, i, 0), 0.99 - i / 100)),
        ),
      ),
    text: (imageId: string, model: ModelRef, lines: string[]) =>
      publishEvent(h.bus, resultEvents.text(imageId, model, lines)),
  };
}
