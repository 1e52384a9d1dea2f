import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AexError, type ErrorCode, problemBody } from '../src/errors.ts';
import type { AexEnv } from './context.ts';

const PROBLEM_JSON = 'application/problem+json';

/** Renders an error code as an `application/problem+json` response. */
export function problemResponse(
  c: Context<AexEnv>,
  code: ErrorCode,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  const body = problemBody(code, detail, c.get('requestId') ?? 'unknown');
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': PROBLEM_JSON, 'cache-control': 'no-store', ...headers },
  });
}

const codeByStatus: Record<number, ErrorCode> = {
  400: 'invalid_input',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * The one `onError` of every AEX app: `AexError` → its code; Hono's HTTPException (body
 * limits, malformed JSON) → the code of its status; anything else is logged with its stack
 * and shown only as `internal`, so internals never leak.
 */
export function problemErrorHandler(): ErrorHandler<AexEnv> {
  return function onProblem(err, c) {
    if (err instanceof AexError) return problemResponse(c, err.code, err.detail, err.headers);
    if (err instanceof HTTPException && err.status < 500) {
      const code = codeByStatus[err.status] ?? 'invalid_input';
      return problemResponse(c, code, err.message || 'The request could not be processed.');
    }
    c.get('log')?.error({ err, stack: err.stack }, 'unhandled error');
    return problemResponse(
      c,
      'internal',
      'An unexpected error occurred. It has been logged; quote the request id if you report it.',
    );
  };
}

/** The one `notFound` of every AEX app. */
export function problemNotFound(): NotFoundHandler<AexEnv> {
  return function onNotFound(c) {
    return problemResponse(c, 'not_found', `No route for ${c.req.method} ${c.req.path}.`);
  };
}
