import { CreateUser, Id, UpdateUser, User, UserList } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type Identity, principalOf, roleRequired } from '../../identity/mod.ts';
import { problems } from '../problems.ts';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const UserIdParam = z.object({ id: Id });
const adminOnly = { 401: problems[401], 403: problems[403] };
const middleware = [roleRequired('admin')];

const listUsersRoute = createRoute({
  middleware,
  method: 'get',
  path: '/api/v1/admin/users',
  summary: "The built-in issuer's users (admin)",
  responses: { 200: { description: 'The users', content: json(UserList) }, ...adminOnly },
});

const createUserRoute = createRoute({
  middleware,
  method: 'post',
  path: '/api/v1/admin/users',
  summary: 'Create a user (admin)',
  request: { body: { required: true, content: json(CreateUser) } },
  responses: {
    201: { description: 'Created', content: json(User) },
    400: problems[400],
    ...adminOnly,
    409: problems[409],
  },
});

const updateUserRoute = createRoute({
  middleware,
  method: 'patch',
  path: '/api/v1/admin/users/{id}',
  summary: "Change a user's name, role, disabled flag or password (admin)",
  description:
    'Disabling a user or setting a password ends their sessions. The last enabled admin ' +
    'can be neither demoted nor disabled (409).',
  request: { params: UserIdParam, body: { required: true, content: json(UpdateUser) } },
  responses: {
    200: { description: 'The user as changed', content: json(User) },
    400: problems[400],
    ...adminOnly,
    404: problems[404],
    409: problems[409],
  },
});

/** `/api/v1/admin/users`: managing the built-in issuer's users; admins only. */
export function registerUsersAdmin(app: OpenAPIHono<AexEnv>, deps: { identity: Identity }): void {
  const { users } = deps.identity;
  app.openapi(listUsersRoute, async (c) => c.json({ items: await users.list() }, 200));
  app.openapi(createUserRoute, async (c) => {
    const actor = principalOf(c);
    const user = await users.create(c.req.valid('json'), actor);
    c.header('location', `/api/v1/admin/users/${user.id}`);
    return c.json(user, 201);
  });
  app.openapi(updateUserRoute, async (c) => {
    const actor = principalOf(c);
    return c.json(await users.update(c.req.valid('param').id, c.req.valid('json'), actor), 200);
  });
}
