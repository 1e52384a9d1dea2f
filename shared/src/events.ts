import { z } from 'zod';
import { Id, newId, Sha256 } from './ids.ts';
import { Subjects } from './subjects.ts';

const base = {
  id: Id,
  version: z.literal(1),
  occurredAt: z.iso.datetime({ offset: true }),
  imageId: Id,
};

/** Which model produced a result: results are keyed by it so a model swap re-indexes side by side. */
export const ModelRef = z.object({
  id: z.string().min(1).max(128),
  version: z.string().min(1).max(64),
});
export type ModelRef = z.infer<typeof ModelRef>;

export const ImageIngested = z.object({
  ...base,
  type: z.literal(Subjects.imageIngested),
  sha256: Sha256,
  mime: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  originalKey: z.string(),
  previewKey: z.string(),
  thumbKey: z.string(),
});
export type ImageIngested = z.infer<typeof ImageIngested>;

export const ImageDeleted = z.object({
  ...base,
  type: z.literal(Subjects.imageDeleted),
  sha256: Sha256,
});
export type ImageDeleted = z.infer<typeof ImageDeleted>;

export const TagScore = z.object({
  label: z.string().min(1).max(200),
  score: z.number().min(0).max(1),
});
export type TagScore = z.infer<typeof TagScore>;

export const ImageTagsComputed = z.object({
  ...base,
  type: z.literal(Subjects.imageTagsComputed),
  model: ModelRef,
  tags: z.array(TagScore).max(100),
});
export type ImageTagsComputed = z.infer<typeof ImageTagsComputed>;

/** A finite number vector (an embedding), at most 4096 dimensions. */
export const Vector = z.array(z.number().finite()).min(1).max(4096);

/** A point in the upright image, as fractions of its width and height (0…1). */
export const Point = z.tuple([z.number().min(-0.5).max(1.5), z.number().min(-0.5).max(1.5)]);

/** An axis-aligned box in the upright image, as fractions of its width and height. */
export const Box = z.object({
  x: z.number().min(-0.5).max(1.5),
  y: z.number().min(-0.5).max(1.5),
  width: z.number().min(0).max(2),
  height: z.number().min(0).max(2),
});
export type Box = z.infer<typeof Box>;

export const ImageEmbeddingComputed = z.object({
  ...base,
  type: z.literal(Subjects.imageEmbeddingComputed),
  model: ModelRef,
  /** L2-normalised. */
  vector: Vector,
});
export type ImageEmbeddingComputed = z.infer<typeof ImageEmbeddingComputed>;

export const DetectedFace = z.object({
  box: Box,
  /** Left eye, right eye, nose tip, left mouth corner, right mouth corner. */
  landmarks: z.array(Point).length(5),
  score: z.number().min(0).max(1),
  /** L2-normalised embedding of the face aligned to 112×112. */
  embedding: Vector,
});
export type DetectedFace = z.infer<typeof DetectedFace>;

/** The most faces one `aex.image.faces.detected` carries; face ids are numbered below it. */
export const MAX_FACES_PER_RESULT = 1000;

export const ImageFacesDetected = z.object({
  ...base,
  type: z.literal(Subjects.imageFacesDetected),
  /** The embedder: it decides the embedding space, so results are keyed by it. */
  model: ModelRef,
  detector: ModelRef,
  faces: z.array(DetectedFace).max(MAX_FACES_PER_RESULT),
});
export type ImageFacesDetected = z.infer<typeof ImageFacesDetected>;

export const RecognizedLine = z.object({
  text: z.string().max(10_000),
  confidence: z.number().min(0).max(1),
  /** The line's quadrilateral, clockwise from top-left. */
  polygon: z.array(Point).length(4),
});
export type RecognizedLine = z.infer<typeof RecognizedLine>;

export const ImageTextRecognized = z.object({
  ...base,
  type: z.literal(Subjects.imageTextRecognized),
  /** The recognizer; `detector` found the lines. */
  model: ModelRef,
  detector: ModelRef,
  lines: z.array(RecognizedLine).max(2000),
});
export type ImageTextRecognized = z.infer<typeof ImageTextRecognized>;

/**
 * Asks the workers of one task to compute an image's result again (a model change or a
 * repair, `aex reindex`). Workers treat it as they treat `aex.image.ingested`.
 */
export const ImageReindexRequested = z.object({
  ...base,
  type: z.literal(Subjects.imageReindexRequested),
  task: z.enum(['tags', 'clip', 'faces', 'ocr']),
  sha256: Sha256,
  previewKey: z.string(),
});
export type ImageReindexRequested = z.infer<typeof ImageReindexRequested>;

/** Every AEX event, discriminated by `type` (which is also its NATS subject). */
export const AexEvent = z.discriminatedUnion('type', [
  ImageIngested,
  ImageDeleted,
  ImageTagsComputed,
  ImageEmbeddingComputed,
  ImageFacesDetected,
  ImageTextRecognized,
  ImageReindexRequested,
]);
export type AexEvent = z.infer<typeof AexEvent>;
export type AexEventType = AexEvent['type'];
export type EventOf<T extends AexEventType> = Extract<AexEvent, { type: T }>;

/**
 * Fills the envelope every event carries: an id (a new UUID v7 unless given), version 1 and
 * the time.
 */
export function makeEvent<T extends AexEvent>(
  fields: Omit<T, 'id' | 'version' | 'occurredAt'> & { id?: string; occurredAt?: Date },
): T {
  const { occurredAt, id, ...rest } = fields;
  return {
    ...rest,
    id: id ?? newId(),
    version: 1,
    occurredAt: (occurredAt ?? new Date()).toISOString(),
  } as unknown as T;
}

/**
 * What a consumer's exhausted message becomes on `aex.dlq.<consumer>`: the original subject
 * and payload, how often it was tried, and the last error, so an operator can see why.
 */
export const DeadLetter = z.object({
  consumer: z.string(),
  subject: z.string(),
  payload: z.string(),
  deliveries: z.number().int(),
  error: z.string(),
  failedAt: z.iso.datetime({ offset: true }),
});
export type DeadLetter = z.infer<typeof DeadLetter>;
