import { LoginRequest, LogoutRequest, RefreshRequest, TokenResponse } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { clientAddress, type Identity } from '../../identity/mod.ts';
import { problems } from '../problems.ts';

const tokens = (description: string) => ({
  description,
  content: { 'application/json': { schema: TokenResponse } },
});

const loginRoute = createRoute({
  method: 'post',
  path: '/api/v1/auth/login',
  summary: 'Log in with email and password (built-in issuer)',
  description:
    'Answers an ES256 access token (15 minutes) and a refresh token (30 days, one use). ' +
    'Every failure is the same 401. After 5 failures in 15 minutes for an email or from an ' +
    'address, attempts are spaced out (429 with Retry-After: 1 s, 2 s, 4 s … up to 15 min).',
  request: { body: { required: true, content: { 'application/json': { schema: LoginRequest } } } },
  responses: {
    200: tokens('Logged in'),
    400: problems[400],
    401: problems[401],
    429: problems[429],
  },
});

const refreshRoute = createRoute({
  method: 'post',
  path: '/api/v1/auth/refresh',
  summary: 'Trade a refresh token for new tokens',
  description:
    'The refresh token is spent: use the new one next time. Presenting a spent one again ' +
    'ends the whole session (it was copied).',
  request: {
    body: { required: true, content: { 'application/json': { schema: RefreshRequest } } },
  },
  responses: { 200: tokens('New tokens'), 400: problems[400], 401: problems[401] },
});

const logoutRoute = createRoute({
  method: 'post',
  path: '/api/v1/auth/logout',
  summary: 'End the session of a refresh token',
  description:
    'Its refresh tokens stop working; access tokens already out expire within 15 minutes.',
  request: {
    body: { required: true, content: { 'application/json': { schema: LogoutRequest } } },
  },
  responses: {
    204: { description: 'Logged out (also for a token already ended)' },
    400: problems[400],
  },
});

/** `POST /api/v1/auth/login`, `/refresh` and `/logout`: open to anonymous clients. */
export function registerAuthSession(app: OpenAPIHono<AexEnv>, deps: { identity: Identity }): void {
  const { identity } = deps;
  app.openapi(loginRoute, async (c) => {
    const answer = await identity.login.login(c.req.valid('json'), clientAddress(c), c.get('log'));
    c.header('cache-control', 'no-store');
    return c.json(answer, 200);
  });
  app.openapi(refreshRoute, async (c) => {
    const answer = await identity.issuer.refresh(c.req.valid('json').refreshToken, c.get('log'));
    c.header('cache-control', 'no-store');
    return c.json(answer, 200);
  });
  app.openapi(logoutRoute, async (c) => {
    await identity.issuer.logout(c.req.valid('json').refreshToken);
    return c.body(null, 204);
  });
}
