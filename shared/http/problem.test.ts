import { describe, expect, test } from 'bun:test';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AexError, Problem } from '../src/errors.ts';
import { capturingLogger } from '../testing/capturing-logger.ts';
import type { AexEnv } from './context.ts';
import { problemErrorHandler, problemNotFound } from './problem.ts';
import { requestContext, traceIdFrom } from './request-context.ts';

function app() {
  const log = capturingLogger();
  const lines = log.lines;
  const a = new Hono<AexEnv>();
  a.use(requestContext({ log, quietPaths: ['/healthz'] }));
  a.onError(problemErrorHandler());
  a.notFound(problemNotFound());
  a.get('/healthz', (c) => c.text('ok'));
  a.get('/ok', (c) => c.json({ requestId: c.get('requestId'), traceId: c.get('traceId') }));
  a.get('/aex', () => {
    throw new AexError('conflict', 'It changed; reload and retry.', {
      headers: { 'retry-after': '1' },
    });
  });
  a.get('/http', () => {
    throw new HTTPException(413, { message: 'too big' });
  });
  a.get('/boom', () => {
    throw new Error('database password is hunter2');
  });
  return { a, lines };
}

async function problem(res: Response): Promise<Problem> {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return Problem.parse(await res.json());
}

describe('problem+json', () => {
  test('AexError renders its code, status, detail, headers and the request id', async () => {
    const { a } = app();
    const res = await a.request('/aex', { headers: { 'x-request-id': 'req-123' } });
    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = await problem(res);
    expect(body).toMatchObject({
      code: 'conflict',
      status: 409,
      detail: 'It changed; reload and retry.',
      requestId: 'req-123',
    });
  });

  test("Hono's HTTPException maps by status", async () => {
    const body = await problem(await app().a.request('/http'));
    expect(body.code).toBe('payload_too_large');
  });

  test('unknown errors are internal, logged with their stack, and never leak', async () => {
    const { a, lines } = app();
    const res = await a.request('/boom');
    expect(res.status).toBe(500);
    const text = await res.clone().text();
    expect(text).not.toContain('hunter2');
    expect((await problem(res)).code).toBe('internal');
    const logged = lines.find((l) => l.msg === 'unhandled error');
    expect(String(logged?.fields.stack)).toContain('hunter2');
  });

  test('unknown routes are not_found problems', async () => {
    const res = await app().a.request('/nope');
    expect(res.status).toBe(404);
    expect((await problem(res)).detail).toContain('/nope');
  });
});

describe('requestContext', () => {
  test('keeps a well-formed x-request-id and the traceparent trace id', async () => {
    const { a, lines } = app();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await a.request('/ok', {
      headers: { 'x-request-id': 'abc-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(await res.json()).toEqual({ requestId: 'abc-1', traceId });
    expect(res.headers.get('x-request-id')).toBe('abc-1');
    const line = lines.find((l) => l.msg === 'request')?.fields;
    expect(line).toMatchObject({
      requestId: 'abc-1',
      traceId,
      method: 'GET',
      path: '/ok',
      status: 200,
    });
  });

  test('replaces a hostile request id and makes a trace id', async () => {
    const { a } = app();
    const res = await a.request('/ok', { headers: { 'x-request-id': 'x y <script>"' } });
    const body = (await res.json()) as { requestId: string; traceId: string };
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  test('quiet paths are not logged on success', async () => {
    const { a, lines } = app();
    await a.request('/healthz');
    expect(lines.filter((l) => l.msg === 'request')).toHaveLength(0);
  });

  test('an all-zero or malformed traceparent is not trusted', () => {
    expect(traceIdFrom(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).not.toBe('0'.repeat(32));
    expect(traceIdFrom('garbage')).toMatch(/^[0-9a-f]{32}$/);
  });
});
