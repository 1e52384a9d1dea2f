/**
 * NATS subjects and JetStream names. Every event's `type` is also its subject, so the
 * subject of an event never has to be looked up.
 */
export const Subjects = {
  imageIngested: 'aex.image.ingested',
  imageDeleted: 'aex.image.deleted',
  imageTagsComputed: 'aex.image.tags.computed',
  imageEmbeddingComputed: 'aex.image.embedding.computed',
  imageFacesDetected: 'aex.image.faces.detected',
  imageTextRecognized: 'aex.image.text.recognized',
  imageReindexRequested: 'aex.image.reindex.requested',
} as const;
export type EventSubject = (typeof Subjects)[keyof typeof Subjects];

/** The JetStream stream that stores every AEX event. */
export const STREAM_NAME = 'AEX';

/**
 * Subjects the stream captures. Not `aex.>`: request/reply subjects such as
 * `aex.infer.text-embed` must stay out of the stream, or JetStream answers the request
 * with a publish ack before any worker can reply.
 */
export const STREAM_SUBJECTS = ['aex.image.>', 'aex.dlq.>'] as const;

/** The subject a consumer's exhausted messages are dead-lettered to. */
export function deadLetterSubject(consumer: string): string {
  return `aex.dlq.${consumer}`;
}

/** Request/reply subjects: answered by workers, never stored in the stream. */
export const RequestSubjects = {
  /** A search query's text → its CLIP text embedding (`TextEmbedRequest` → `TextEmbedReply`). */
  textEmbed: 'aex.infer.text-embed',
} as const;
