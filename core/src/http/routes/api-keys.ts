import { ApiKey, ApiKeyList, CreateApiKey, CreatedApiKey, Id } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type Identity, principalOf, roleRequired } from '../../identity/mod.ts';
import { problems } from '../problems.ts';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const adminOnly = { 401: problems[401], 403: problems[403] };
const middleware = [roleRequired('admin')];

const createApiKeyRoute = createRoute({
  middleware,
  method: 'post',
  path: '/api/v1/admin/api-keys',
  summary: 'Create an API key (admin)',
  description:
    'The answer holds the key (`aex_<id>_<secret>`) once; AEX keeps only a hash of it. Send ' +
    'it as `Authorization: Bearer aex_…` or `X-Api-Key: aex_…`. Its role is at most yours.',
  request: { body: { required: true, content: json(CreateApiKey) } },
  responses: {
    201: { description: 'Created: store the key now', content: json(CreatedApiKey) },
    400: problems[400],
    ...adminOnly,
  },
});

const listApiKeysRoute = createRoute({
  middleware,
  method: 'get',
  path: '/api/v1/admin/api-keys',
  summary: 'Every API key, revoked ones included, never a secret (admin)',
  responses: { 200: { description: 'The keys', content: json(ApiKeyList) }, ...adminOnly },
});

const revokeApiKeyRoute = createRoute({
  middleware,
  method: 'delete',
  path: '/api/v1/admin/api-keys/{id}',
  summary: 'Revoke an API key (admin)',
  description: 'It stops working at once; it stays listed with its revokedAt.',
  request: { params: z.object({ id: Id }) },
  responses: {
    200: { description: 'Revoked', content: json(ApiKey) },
    400: problems[400],
    ...adminOnly,
    404: problems[404],
  },
});

/** `/api/v1/admin/api-keys`: keys for scripts and the importer; admins only. */
export function registerApiKeys(app: OpenAPIHono<AexEnv>, deps: { identity: Identity }): void {
  const { apiKeys } = deps.identity;
  app.openapi(createApiKeyRoute, async (c) => {
    const created = await apiKeys.create(c.req.valid('json'), principalOf(c));
    c.header('cache-control', 'no-store');
    return c.json(created, 201);
  });
  app.openapi(listApiKeysRoute, async (c) => c.json({ items: await apiKeys.list() }, 200));
  app.openapi(revokeApiKeyRoute, async (c) =>
    c.json(await apiKeys.revoke(c.req.valid('param').id), 200),
  );
}
