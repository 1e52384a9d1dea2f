import { z } from 'zod';

/** The closed set of error codes every AEX service speaks (DESIGN.md, "Errors"). */
export const ErrorCode = z.enum([
  'invalid_input',
  'unsupported_media_type',
  'payload_too_large',
  'not_found',
  'unauthenticated',
  'forbidden',
  'conflict',
  'rate_limited',
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

const statusByCode = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<ErrorCode, number>;

const titleByCode: Record<ErrorCode, string> = {
  invalid_input: 'The request is not valid',
  unauthenticated: 'Authentication is required',
  forbidden: 'You may not do this',
  not_found: 'Not found',
  conflict: 'The request conflicts with the current state',
  payload_too_large: 'The request body is too large',
  unsupported_media_type: 'This media type is not supported',
  rate_limited: 'Too many requests',
  internal: 'Something went wrong on our side',
  unavailable: 'The service is temporarily unavailable',
};

/** Maps an error code to its HTTP status: the one place this mapping lives. */
export function codeToStatus(code: ErrorCode): (typeof statusByCode)[ErrorCode] {
  return statusByCode[code];
}

/** The human title for an error code, used as problem+json `title`. */
export function codeToTitle(code: ErrorCode): string {
  return titleByCode[code];
}

/**
 * An RFC 9457 problem document as AEX renders it: `application/problem+json` with the AEX
 * error code, a stable title, a detail that says what to do next, and the request id.
 */
export const Problem = z
  .object({
    type: z.string().default('about:blank'),
    status: z.number().int(),
    code: ErrorCode,
    title: z.string(),
    detail: z.string(),
    requestId: z.string(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

/**
 * An expected failure with an AEX error code. Services throw it; the transport renders it
 * once as problem+json. `detail` is shown to the client, so it must never hold secrets.
 */
export class AexError extends Error {
  override name = 'AexError';
  readonly code: ErrorCode;
  readonly detail: string;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = detail;
    this.headers = options?.headers ?? {};
  }

  get status(): number {
    return codeToStatus(this.code);
  }
}

/** Builds the problem+json body for an error code. */
export function problemBody(code: ErrorCode, detail: string, requestId: string): Problem {
  return {
    type: 'about:blank',
    status: codeToStatus(code),
    code,
    title: codeToTitle(code),
    detail,
    requestId,
  };
}
