import { VectorIndexError } from './vector-index.ts';

/**
 * One place that turns every way the Milvus SDK fails into a `VectorIndexError` a person can
 * act on. The SDK fails in four shapes: a gRPC error (`code` 14 when nothing answers), a
 * response whose `status` says no (most calls resolve rather than reject), a thrown status
 * object (createCollection, insert), and a plain Error with the reason in its text (load).
 */

/** What went wrong, as far as a caller can do something different about it. */
export type MilvusFailureKind = 'unreachable' | 'auth' | 'not_found' | 'other';

interface MilvusStatus {
  error_code?: string | number;
  code?: number;
  reason?: string;
  detail?: string;
}

/** A Milvus answer whose status was not success, thrown by `ok`. */
export class MilvusStatusError extends Error {
  override name = 'MilvusStatusError';
  constructor(readonly status: MilvusStatus) {
    super(status.reason || status.detail || `Milvus error ${status.error_code ?? status.code}`);
  }
}

function statusOf(value: unknown): MilvusStatus | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { status?: MilvusStatus } & MilvusStatus;
  if (v.status && typeof v.status === 'object') return v.status;
  return 'error_code' in v ? v : undefined;
}

/**
 * Returns `res`, or throws `MilvusStatusError` when its status (its own, or `res.status`) is
 * not success. Milvus 2.3+ sets both the legacy `error_code` and the numeric `code`.
 */
export function ok<T>(res: T): T {
  const status = statusOf(res);
  if (!status) return res;
  const failed =
    (status.error_code !== undefined &&
      status.error_code !== 'Success' &&
      status.error_code !== 0) ||
    (typeof status.code === 'number' && status.code !== 0);
  if (failed) throw new MilvusStatusError(status);
  return res;
}

// gRPC status codes (grpc/doc/statuscodes.md).
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAVAILABLE = 14;
const GRPC_UNAUTHENTICATED = 16;
// Milvus's merr codes (pkg/util/merr/errors.go).
const COLLECTION_NOT_FOUND = 100;
const AUTH_CODES = [1400, 1401, 1800];

/** Classifies a failure of any of the SDK's four shapes. */
export function classifyMilvusError(err: unknown): MilvusFailureKind {
  const status = err instanceof MilvusStatusError ? err.status : statusOf(err);
  const grpc =
    status === undefined && err instanceof Error ? (err as { code?: unknown }).code : undefined;
  const text = messageOf(err);
  if (grpc === GRPC_UNAVAILABLE || grpc === GRPC_DEADLINE_EXCEEDED) return 'unreachable';
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|No connection established/i.test(text)) {
    return 'unreachable';
  }
  if (grpc === GRPC_UNAUTHENTICATED || grpc === GRPC_PERMISSION_DENIED) return 'auth';
  if (AUTH_CODES.includes(status?.code ?? -1) || status?.error_code === 'PermissionDenied') {
    return 'auth';
  }
  if (/auth(entication)? check fail|not authenticated|hasn't authenticated/i.test(text)) {
    return 'auth';
  }
  if (status?.code === COLLECTION_NOT_FOUND || status?.error_code === 'CollectionNotExists') {
    return 'not_found';
  }
  if (/collection not found|can't find collection|collection .* (does )?not exist/i.test(text)) {
    return 'not_found';
  }
  return 'other';
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  const status = statusOf(err);
  if (status) return status.reason || status.detail || `error ${status.error_code ?? status.code}`;
  return String(err);
}

/** Where a failure happened, for the message. */
export interface MilvusErrorContext {
  address: string;
  /** What was being done, e.g. `search in aex_clip_1_0a1b2c3d`. */
  action: string;
  collection?: string;
}

/** `err` as a `VectorIndexError` whose message says what to check; the original is its cause. */
export function toVectorIndexError(err: unknown, context: MilvusErrorContext): VectorIndexError {
  if (err instanceof VectorIndexError) return err;
  const detail = messageOf(err);
  const { address, action } = context;
  const message = {
    unreachable: `Milvus at ${address} is not reachable (${action}); check MILVUS_ADDRESS and that Milvus is running: ${detail}`,
    auth: `Milvus at ${address} refused the credentials (${action}); check the token or username and password: ${detail}`,
    not_found: `collection ${context.collection ?? '?'} does not exist in Milvus at ${address} (dropped?): ${detail}`,
    other: `Milvus at ${address} failed (${action}): ${detail}`,
  }[classifyMilvusError(err)];
  return new VectorIndexError(message, { cause: err });
}
