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

/** Every AEX event, discriminated by `type` (which is also its NATS subject). */
export const AexEvent = z.discriminatedUnion('type', [
  ImageIngested,
  ImageDeleted,
  ImageTagsComputed,
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
