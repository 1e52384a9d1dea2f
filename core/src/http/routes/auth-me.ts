import { AexError, PrincipalBody } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { BEARER_CHALLENGE, principalOf } from '../../identity/mod.ts';
import { problems } from '../problems.ts';

const meRoute = createRoute({
  method: 'get',
  path: '/api/v1/auth/me',
  summary: 'Who the credentials sent prove you are',
  description:
    'Works with an access token and with an API key; the edge asks it to check an API key. ' +
    '401 without valid credentials.',
  responses: {
    200: {
      description: 'The principal',
      content: { 'application/json': { schema: PrincipalBody } },
    },
    401: problems[401],
  },
});

/** `GET /api/v1/auth/me`. */
export function registerAuthMe(app: OpenAPIHono<AexEnv>): void {
  app.openapi(meRoute, (c) => {
    const principal = principalOf(c);
    if (principal.method === 'anonymous') {
      throw new AexError(
        'unauthenticated',
        'No valid credentials were sent: send Authorization: Bearer <access token or API key>, or X-Api-Key.',
        { headers: { 'www-authenticate': BEARER_CHALLENGE } },
      );
    }
    // Per credential (core's route policy also marks it private and varies it on them), and
    // never cached at all: an API key check must see a revocation at once.
    c.header('cache-control', 'no-store');
    return c.json(
      {
        subject: principal.subject,
        role: principal.role,
        method: principal.method,
        ...(principal.displayName === undefined ? {} : { displayName: principal.displayName }),
      },
      200,
    );
  });
}
