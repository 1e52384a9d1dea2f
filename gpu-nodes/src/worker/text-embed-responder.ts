import { type ModelRef, RequestSubjects, TextEmbedReply, TextEmbedRequest } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import type { Rpc, RpcResponder } from '@aex/shared/ports/rpc/rpc';

/** The CLIP text encoder as the responder needs it. */
export interface TextEmbedder {
  readonly model: ModelRef;
  readonly provider: string;
  /** L2-normalised embeddings, index-aligned with `texts`. */
  embed(texts: readonly string[]): Promise<Array<ArrayLike<number>>>;
  close(): Promise<void>;
}

/** The queue group of every text-embedding responder: each query is answered by one worker. */
export const TEXT_EMBED_QUEUE = 'clip-text';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Answers `aex.infer.text-embed` (search queries → CLIP text embeddings) with `embedder`. A
 * request it cannot serve (bad JSON, another model version) gets `{ ok: false, error }`, so
 * core can tell "wrong question" from "nobody answering" (`RpcUnavailableError`).
 */
export function answerTextEmbed(
  rpc: Rpc,
  embedder: TextEmbedder,
  log: Logger,
): Promise<RpcResponder> {
  return rpc.respond(
    RequestSubjects.textEmbed,
    async (payload) => encoder.encode(JSON.stringify(await embedText(embedder, payload, log))),
    { queue: TEXT_EMBED_QUEUE },
  );
}

/** One request's reply. */
export async function embedText(
  embedder: TextEmbedder,
  payload: Uint8Array,
  log: Logger,
): Promise<TextEmbedReply> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(payload));
  } catch {
    return { ok: false, error: 'invalid request: not JSON' };
  }
  const request = TextEmbedRequest.safeParse(json);
  if (!request.success) {
    const issues = request.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, error: `invalid request: ${issues.join('; ')}` };
  }
  const { model } = embedder;
  const wanted = request.data.model;
  if (wanted && (wanted.id !== model.id || wanted.version !== model.version)) {
    return {
      ok: false,
      error: `model ${wanted.id}@${wanted.version} is not loaded here (this worker has ${model.id}@${model.version})`,
    };
  }
  try {
    const [vector] = await embedder.embed([request.data.text]);
    if (!vector) throw new Error('the encoder returned no embedding');
    return TextEmbedReply.parse({ ok: true, model, vector: Array.from(vector) });
  } catch (err) {
    log.error({ err }, 'text embedding failed');
    return { ok: false, error: `text embedding failed: ${(err as Error).message}` };
  }
}
