/**
 * The request/reply port: a question with a deadline, answered by whichever responder of a
 * queue group takes it (DESIGN.md: "answer text-embedding requests for search"). Adapters:
 * NATS core request/reply, and an in-process one for the all-in-one process. Subjects are
 * logical (`aex.infer.text-embed`), mapped onto the wire prefix like the event bus's.
 */
export interface Rpc {
  readonly kind: 'embedded' | 'nats';
  /**
   * Sends a request and resolves with the reply. Rejects with `RpcUnavailableError` when no
   * responder listens, `RpcTimeoutError` when none answers within `timeoutMs`.
   */
  request(
    subject: string,
    payload: Uint8Array,
    options: { timeoutMs: number },
  ): Promise<Uint8Array>;
  /** Answers requests on `subject`; responders in one `queue` share them (one answers each). */
  respond(
    subject: string,
    handler: (payload: Uint8Array) => Promise<Uint8Array>,
    options?: { queue?: string },
  ): Promise<RpcResponder>;
  close(): Promise<void>;
}

export interface RpcResponder {
  /** Stops taking requests and waits for the ones being answered. */
  stop(): Promise<void>;
}

/** Nobody listens on the subject. */
export class RpcUnavailableError extends Error {
  override name = 'RpcUnavailableError';
}

/** A responder listens but did not answer in time. */
export class RpcTimeoutError extends Error {
  override name = 'RpcTimeoutError';
}

/** The responder failed while answering; `message` is its error. */
export class RpcRemoteError extends Error {
  override name = 'RpcRemoteError';
}
