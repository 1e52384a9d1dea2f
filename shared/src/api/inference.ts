import { z } from 'zod';
import { ModelRef, Vector } from '../events.ts';

/** `aex.infer.text-embed` request: the text of a search query. */
export const TextEmbedRequest = z.object({
  text: z.string().min(1).max(1000),
  /** A specific model version; default: the worker's loaded CLIP text model. */
  model: ModelRef.optional(),
});
export type TextEmbedRequest = z.infer<typeof TextEmbedRequest>;

/** `aex.infer.text-embed` reply: the L2-normalised text embedding, or why there is none. */
export const TextEmbedReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), model: ModelRef, vector: Vector }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type TextEmbedReply = z.infer<typeof TextEmbedReply>;

/** The inference tasks a worker can run. */
export const InferenceTaskName = z.enum(['tags', 'clip', 'faces', 'ocr']);
export type InferenceTaskName = z.infer<typeof InferenceTaskName>;
