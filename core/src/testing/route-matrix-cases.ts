import { newId, type Role } from '@aex/shared';
import type { Access } from '../http/authorization/route-policy.ts';
import { HARNESS_ADMIN } from './harness-credentials.ts';
import {
  albumWith,
  freshImage,
  freshPng,
  json,
  type RouteCase,
  refreshToken,
  TUS,
  tusUpload,
} from './route-matrix-fixtures.ts';

// Issue 5's roles, written out here from the issue's text (not read from route-policies.ts,
// so the matrix checks the policies instead of repeating them): anyone: health, discovery,
// sign-in, public search; reader: every read of the library; editor: uploads, edits,
// deletes, albums; admin: models, jobs, audit, users, API keys.

const get = (access: Access, path: string, ok = 200): RouteCase => ({
  access,
  ok,
  request: async () => ({ path }),
});

/** One case per route policy, keyed `METHOD path` as in route-policies.ts. */
export const ROUTE_CASES: Record<string, RouteCase> = {
  'GET /healthz': get('anyone', '/healthz'),
  'GET /readyz': get('anyone', '/readyz'),
  'GET /api/v1/openapi.json': get('anyone', '/api/v1/openapi.json'),
  'GET /.well-known/jwks.json': get('anyone', '/.well-known/jwks.json'),
  'GET /.well-known/openid-configuration': get('anyone', '/.well-known/openid-configuration'),
  'POST /api/v1/auth/login': {
    access: 'anyone',
    ok: 200,
    request: async () => ({
      path: '/api/v1/auth/login',
      init: json('POST', { email: HARNESS_ADMIN.email, password: HARNESS_ADMIN.password }),
    }),
  },
  'POST /api/v1/auth/refresh': {
    access: 'anyone',
    ok: 200,
    request: async (h) => ({
      path: '/api/v1/auth/refresh',
      init: json('POST', { refreshToken: await refreshToken(h) }),
    }),
  },
  'POST /api/v1/auth/logout': {
    access: 'anyone',
    ok: 204,
    request: async (h) => ({
      path: '/api/v1/auth/logout',
      init: json('POST', { refreshToken: await refreshToken(h) }),
    }),
  },
  'GET /api/v1/auth/me': {
    access: 'anyone',
    ok: 200,
    request: async () => ({ path: '/api/v1/auth/me' }),
    expect: (caller) => (caller === 'anonymous' ? 401 : undefined),
  },
  'GET /api/v1/public/search': {
    access: 'anyone',
    ok: 200,
    request: async (_h, f) => ({ path: `/api/v1/public/search?text=${f.word}` }),
  },
  'GET /api/v1/public/images/by-sha/:sha256': {
    access: 'anyone',
    ok: 200,
    request: async (_h, f, kind) => ({
      path: `/api/v1/public/images/by-sha/${f.image[kind].sha256}`,
    }),
    // Whether an image is public is the answer itself: the same for everyone.
    expect: (_caller, kind) => (kind === 'internal' ? 404 : undefined),
  },
  'GET /api/v1/images': get('reader', '/api/v1/images'),
  'GET /api/v1/images/:id': {
    access: 'reader',
    ok: 200,
    request: async (_h, f, kind) => ({ path: `/api/v1/images/${f.image[kind].id}` }),
  },
  'GET /api/v1/images/:id/original': {
    access: 'reader',
    ok: 200,
    request: async (_h, f, kind) => ({ path: `/api/v1/images/${f.image[kind].id}/original` }),
  },
  'GET /api/v1/albums': get('reader', '/api/v1/albums'),
  'GET /api/v1/albums/:id': {
    access: 'reader',
    ok: 200,
    request: async (h, f, kind) => ({
      path: `/api/v1/albums/${await albumWith(h, f.image[kind])}`,
    }),
  },
  'GET /api/v1/duplicates': get('reader', '/api/v1/duplicates'),
  'GET /api/v1/search': {
    access: 'reader',
    ok: 200,
    request: async (_h, f) => ({ path: `/api/v1/search?text=${f.word}` }),
  },
  'POST /api/v1/images': {
    access: 'editor',
    ok: 201,
    request: async () => ({
      path: '/api/v1/images',
      init: { method: 'POST', body: await freshPng() },
    }),
  },
  'POST /api/v1/images/batch-status': {
    access: 'editor',
    ok: 200,
    request: async (_h, f, kind) => ({
      path: '/api/v1/images/batch-status',
      init: json('POST', { sha256: [f.image[kind].sha256] }),
    }),
  },
  'OPTIONS /api/v1/uploads': {
    access: 'anyone',
    ok: 204,
    request: async () => ({ path: '/api/v1/uploads', init: { method: 'OPTIONS' } }),
  },
  'POST /api/v1/uploads': {
    access: 'editor',
    ok: 201,
    request: async () => ({
      path: '/api/v1/uploads',
      init: { method: 'POST', headers: { ...TUS, 'upload-length': '100' } },
    }),
  },
  'OPTIONS /api/v1/uploads/:id': {
    access: 'anyone',
    ok: 204,
    request: async (h) => ({ path: await tusUpload(h, 10), init: { method: 'OPTIONS' } }),
  },
  // GET of an upload is refused by design; HEAD, which Hono routes with it, says the offset.
  'GET /api/v1/uploads/:id': {
    access: 'editor',
    ok: 200,
    request: async (h) => ({
      path: await tusUpload(h, 10),
      init: { method: 'HEAD', headers: TUS },
    }),
  },
  'PATCH /api/v1/uploads/:id': {
    access: 'editor',
    ok: 204,
    request: async (h) => {
      const png = await freshPng();
      return {
        path: await tusUpload(h, png.length),
        init: {
          method: 'PATCH',
          headers: {
            ...TUS,
            'upload-offset': '0',
            'content-type': 'application/offset+octet-stream',
          },
          body: png,
        },
      };
    },
  },
  'DELETE /api/v1/uploads/:id': {
    access: 'editor',
    ok: 204,
    request: async (h) => ({
      path: await tusUpload(h, 10),
      init: { method: 'DELETE', headers: TUS },
    }),
  },
  'PATCH /api/v1/images/:id': {
    access: 'editor',
    ok: 200,
    request: async (_h, f, kind) => ({
      path: `/api/v1/images/${f.image[kind].id}`,
      init: json('PATCH', { rating: 3 }),
    }),
  },
  'DELETE /api/v1/images/:id': {
    access: 'editor',
    ok: 204,
    request: async (h, _f, kind) => ({
      path: `/api/v1/images/${(await freshImage(h, kind)).id}`,
      init: { method: 'DELETE' },
    }),
  },
  'POST /api/v1/albums': {
    access: 'editor',
    ok: 201,
    request: async () => ({ path: '/api/v1/albums', init: json('POST', { name: 'matrix' }) }),
  },
  'PATCH /api/v1/albums/:id': {
    access: 'editor',
    ok: 200,
    request: async (h, f, kind) => ({
      path: `/api/v1/albums/${await albumWith(h, f.image[kind])}`,
      init: json('PATCH', { name: 'renamed' }),
    }),
  },
  'DELETE /api/v1/albums/:id': {
    access: 'editor',
    ok: 204,
    request: async (h, f, kind) => ({
      path: `/api/v1/albums/${await albumWith(h, f.image[kind])}`,
      init: { method: 'DELETE' },
    }),
  },
  'POST /api/v1/albums/:id/images': {
    access: 'editor',
    ok: 200,
    request: async (h, f, kind) => ({
      path: `/api/v1/albums/${await albumWith(h)}/images`,
      init: json('POST', { imageIds: [f.image[kind].id] }),
    }),
  },
  'DELETE /api/v1/albums/:id/images': {
    access: 'editor',
    ok: 200,
    request: async (h, f, kind) => ({
      path: `/api/v1/albums/${await albumWith(h, f.image[kind])}/images`,
      init: json('DELETE', { imageIds: [f.image[kind].id] }),
    }),
  },
  'PUT /api/v1/albums/:id/order': {
    access: 'editor',
    ok: 200,
    request: async (h, f, kind) => ({
      path: `/api/v1/albums/${await albumWith(h, f.image[kind])}/order`,
      init: json('PUT', { imageIds: [f.image[kind].id] }),
    }),
  },
  'POST /api/v1/duplicates/resolve': {
    access: 'editor',
    ok: 200,
    request: async (h, _f, kind) => {
      const [keep, remove] = [await freshImage(h, kind), await freshImage(h, kind)];
      return {
        path: '/api/v1/duplicates/resolve',
        init: json('POST', { keep: keep.id, remove: [remove.id] }),
      };
    },
  },
  'GET /api/v1/admin/models': get('admin', '/api/v1/admin/models'),
  'POST /api/v1/admin/models/activate': {
    access: 'admin',
    ok: 200,
    request: async (_h, f) => ({
      path: '/api/v1/admin/models/activate',
      init: json('POST', { task: 'ocr', model: f.ocr, force: true }),
    }),
  },
  'POST /api/v1/admin/reindex': {
    access: 'admin',
    ok: 202,
    request: async (_h, f) => ({
      path: '/api/v1/admin/reindex',
      init: json('POST', { task: 'ocr', model: f.ocr, limit: 1 }),
    }),
  },
  'GET /api/v1/admin/audit': get('admin', '/api/v1/admin/audit'),
  'GET /api/v1/admin/users': get('admin', '/api/v1/admin/users'),
  'POST /api/v1/admin/users': {
    access: 'admin',
    ok: 201,
    request: async () => ({
      path: '/api/v1/admin/users',
      init: json('POST', {
        email: `u-${newId()}@aex.test`,
        role: 'reader',
        password: 'matrix-password-1',
      }),
    }),
  },
  'PATCH /api/v1/admin/users/:id': {
    access: 'admin',
    ok: 200,
    request: async (h) => {
      const res = await h.request(
        '/api/v1/admin/users',
        json('POST', {
          email: `u-${newId()}@aex.test`,
          role: 'reader',
          password: 'matrix-password-1',
        }),
      );
      const { id } = (await res.json()) as { id: string };
      return { path: `/api/v1/admin/users/${id}`, init: json('PATCH', { displayName: 'Renamed' }) };
    },
  },
  'GET /api/v1/admin/api-keys': get('admin', '/api/v1/admin/api-keys'),
  'POST /api/v1/admin/api-keys': {
    access: 'admin',
    ok: 201,
    request: async () => ({
      path: '/api/v1/admin/api-keys',
      init: json('POST', { name: 'matrix', role: 'reader' as Role }),
    }),
  },
  'DELETE /api/v1/admin/api-keys/:id': {
    access: 'admin',
    ok: 200,
    request: async (h) => {
      const res = await h.request(
        '/api/v1/admin/api-keys',
        json('POST', { name: 'to revoke', role: 'reader' }),
      );
      const { id } = (await res.json()) as { id: string };
      return { path: `/api/v1/admin/api-keys/${id}`, init: { method: 'DELETE' } };
    },
  },
};
