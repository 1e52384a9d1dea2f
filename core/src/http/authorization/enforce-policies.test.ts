import { describe, expect, test } from 'bun:test';
import type { Principal, Role } from '@aex/shared';
import {
  type AexEnv,
  problemErrorHandler,
  problemNotFound,
  requestContext,
} from '@aex/shared/http';
import { silentLogger } from '@aex/shared/ports/log';
import { Hono } from 'hono';
import type { AuditRecord } from '../../services/audit-log.ts';
import { assertEveryRouteHasPolicy, installRoutePolicies } from './enforce-policies.ts';
import type { RoutePolicy } from './route-policy.ts';

// The enforcement on a bare Hono app. Who the caller is comes from a test header here (core
// authenticates for real in authorization.security.test.ts); audit entries are collected.

function appWith(policies: RoutePolicy[], records: AuditRecord[] = []) {
  const app = new Hono<AexEnv>();
  app.use(requestContext({ log: silentLogger() }));
  app.onError(problemErrorHandler());
  app.notFound(problemNotFound());
  app.use(async function testPrincipal(c, next) {
    const role = c.req.header('x-test-role') as Role | undefined;
    if (role)
      c.set('principal', { subject: `user-${role}`, role, method: 'token' } satisfies Principal);
    await next();
  });
  installRoutePolicies(app, policies, { audit: { record: async (r) => void records.push(r) } });
  return app;
}
const as = (role: Role, init: RequestInit = {}) => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), 'x-test-role': role },
});

describe('route policies', () => {
  test('a route without a policy stops the app from being built', () => {
    const app = appWith([{ method: 'GET', path: '/listed', access: 'reader' }]);
    app.get('/listed', (c) => c.text('ok'));
    app.post('/forgotten', (c) => c.text('oops'));
    expect(() =>
      assertEveryRouteHasPolicy(app, [{ method: 'GET', path: '/listed', access: 'reader' }]),
    ).toThrow('POST /forgotten has no policy');
  });

  test('a route registered before the policies stops it too (its handler would run first)', () => {
    const app = new Hono<AexEnv>();
    app.get('/early', (c) => c.text('ok'));
    const policies: RoutePolicy[] = [{ method: 'GET', path: '/early', access: 'admin' }];
    installRoutePolicies(app, policies, { audit: { record: async () => {} } });
    expect(() => assertEveryRouteHasPolicy(app, policies)).toThrow(
      'registered before the policies',
    );
  });

  test('a change route must say what the audit log records', () => {
    expect(() => appWith([{ method: 'POST', path: '/things', access: 'editor' }])).toThrow(
      /audit log/,
    );
  });

  test('an unlisted route is not reachable at run time either, even by an admin', async () => {
    const app = appWith([]);
    app.get('/secret', (c) => c.text('secret'));
    const res = await app.request('/secret', as('admin'));
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('secret"');
  });

  test('anonymous: 401 with a Bearer challenge; too weak a role: 403; enough: through', async () => {
    const app = appWith([{ method: 'GET', path: '/things/:id', access: 'editor' }]);
    app.get('/things/:id', (c) => c.json({ id: c.req.param('id') }));
    const anonymous = await app.request('/things/1');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="aex"');
    const reader = await app.request('/things/1', as('reader'));
    expect(reader.status).toBe(403);
    expect(((await reader.json()) as { detail: string }).detail).toContain('needs the editor role');
    expect((await app.request('/things/1', as('editor'))).status).toBe(200);
    expect((await app.request('/things/1', as('admin'))).status).toBe(200);
    // HEAD is routed as GET, policy included.
    expect((await app.request('/things/1', { method: 'HEAD' })).status).toBe(401);
  });

  test('an answer behind a role is never public: private, and Vary names the credentials', async () => {
    const app = appWith([
      { method: 'GET', path: '/a', access: 'reader' },
      { method: 'GET', path: '/b', access: 'reader' },
      { method: 'GET', path: '/c', access: 'reader' },
      { method: 'GET', path: '/open', access: 'anyone' },
    ]);
    app.get('/a', (c) =>
      c.json({}, 200, { 'cache-control': 'public, max-age=60', vary: 'accept' }),
    );
    app.get('/b', (c) => c.json({}, 200, { 'cache-control': 'max-age=30', vary: 'Authorization' }));
    app.get('/c', (c) => c.json({}));
    app.get('/open', (c) => c.json({}, 200, { 'cache-control': 'public, max-age=60' }));
    const a = await app.request('/a', as('reader'));
    expect(a.headers.get('cache-control')).toBe('private, no-store');
    expect(a.headers.get('vary')).toBe('accept, Authorization, X-Api-Key');
    const b = await app.request('/b', as('reader'));
    expect(b.headers.get('cache-control')).toBe('private, max-age=30');
    expect(b.headers.get('vary')).toBe('Authorization, X-Api-Key');
    expect((await app.request('/c', as('reader'))).headers.get('cache-control')).toBe(
      'private, no-store',
    );
    expect((await app.request('/open')).headers.get('cache-control')).toBe('public, max-age=60');
  });

  test('a successful change is recorded with its actor and target; a failed one is not', async () => {
    const records: AuditRecord[] = [];
    const app = appWith(
      [
        {
          method: 'DELETE',
          path: '/things/:id',
          access: 'editor',
          audit: { action: 'thing.delete', targetType: 'thing', targetId: { param: 'id' } },
        },
      ],
      records,
    );
    app.delete('/things/:id', (c) =>
      c.req.param('id') === 'missing' ? c.json({}, 404) : c.body(null, 204),
    );
    const done = await app.request('/things/42', as('editor', { method: 'DELETE' }));
    await app.request('/things/missing', as('editor', { method: 'DELETE' }));
    await app.request('/things/43', as('reader', { method: 'DELETE' }));
    expect(records).toEqual([
      {
        actor: { subject: 'user-editor', role: 'editor', method: 'token' },
        action: 'thing.delete',
        targetType: 'thing',
        targetId: '42',
        requestId: done.headers.get('x-request-id'),
        details: null,
      },
    ]);
  });
});
