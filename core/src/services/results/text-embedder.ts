import {
  AexError,
  type ModelRef,
  RequestSubjects,
  TextEmbedReply,
  type TextEmbedRequest,
} from '@aex/shared';
import { type Rpc, RpcTimeoutError, RpcUnavailableError } from '@aex/shared/ports/rpc/rpc';

export interface TextEmbedderOptions {
  /** How long a worker may take to answer. Default 3 s. */
  timeoutMs?: number;
  /** Query embeddings kept (least recently used go first). Default 1,000. */
  cacheSize?: number;
  /** Seconds a client is told to wait after a timeout (`Retry-After`). Default 5. */
  retryAfterSeconds?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The text a query is embedded and cached as: Unicode NFC, lower case, single spaces. CLIP's
 * tokenizer lower-cases and collapses whitespace itself, so this never changes the embedding;
 * it only lets "Red car" and "red  car" share one cache entry.
 */
export function normaliseQuery(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * Turns search text into a CLIP text embedding by asking a worker (`aex.infer.text-embed`,
 * request/reply with a deadline), keeping recent answers: a search typed twice, or paged,
 * costs the workers one inference. Concurrent asks for the same text share one request.
 */
export class TextEmbedder {
  private readonly cache = new Map<string, Float32Array>();
  private readonly inFlight = new Map<string, Promise<Float32Array>>();
  private readonly timeoutMs: number;
  private readonly cacheSize: number;
  private readonly retryAfter: string;

  constructor(
    private readonly rpc: Rpc | undefined,
    options: TextEmbedderOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.cacheSize = options.cacheSize ?? 1000;
    this.retryAfter = String(options.retryAfterSeconds ?? 5);
  }

  /**
   * The embedding of `text` in `model`'s space.
   * @throws AexError `unavailable` (with Retry-After) when no worker answers in time, none
   *   listens, or the workers run another model.
   */
  async embed(text: string, model: ModelRef): Promise<Float32Array> {
    const normalised = normaliseQuery(text);
    const key = `${model.id}\u0000${model.version}\u0000${normalised}`;
    const cached = this.cache.get(key);
    if (cached) {
      // Map order is insertion order: re-inserting makes this the most recently used.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.request(normalised, model).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const vector = await pending;
    this.cache.set(key, vector);
    while (this.cache.size > this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    return vector;
  }

  private async request(text: string, model: ModelRef): Promise<Float32Array> {
    if (!this.rpc) {
      throw this.unavailable('this core was started without a request/reply connection');
    }
    const body: TextEmbedRequest = { text, model };
    let raw: Uint8Array;
    try {
      raw = await this.rpc.request(
        RequestSubjects.textEmbed,
        encoder.encode(JSON.stringify(body)),
        { timeoutMs: this.timeoutMs },
      );
    } catch (err) {
      if (err instanceof RpcTimeoutError) {
        throw this.unavailable(
          `no worker answered within ${this.timeoutMs} ms (busy, or still loading the CLIP model)`,
          err,
        );
      }
      if (err instanceof RpcUnavailableError) {
        throw this.unavailable('no worker runs the CLIP text model (start one with it)', err);
      }
      throw this.unavailable(`the worker failed: ${(err as Error).message}`, err);
    }
    let reply: TextEmbedReply;
    try {
      reply = TextEmbedReply.parse(JSON.parse(decoder.decode(raw)));
    } catch (err) {
      throw this.unavailable('the worker answered with something that is not an embedding', err);
    }
    if (!reply.ok) throw this.unavailable(`the worker could not embed the query: ${reply.error}`);
    if (reply.model.id !== model.id || reply.model.version !== model.version) {
      // Vectors of another model live in another space: comparing them would rank at random.
      throw this.unavailable(
        `the workers run ${reply.model.id}@${reply.model.version}, but images are searched with ` +
          `${model.id}@${model.version}; run \`aex reindex --task clip --activate\` or a worker with that model`,
      );
    }
    return Float32Array.from(reply.vector);
  }

  private unavailable(why: string, cause?: unknown): AexError {
    return new AexError(
      'unavailable',
      `Search is warming up or unavailable: ${why}. Try again shortly.`,
      {
        cause,
        headers: { 'retry-after': this.retryAfter },
      },
    );
  }
}
