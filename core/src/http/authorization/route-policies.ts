import type { AuditRule, RoutePolicy } from './route-policy.ts';

// Who may call what (issue 5, "Authorization in core"). Anonymous clients see only public
// images, through public search; readers browse and search the whole library; editors also
// upload, edit and delete images and manage albums (and people); admins also manage users,
// roles, API keys, models and jobs. A route missing here cannot be served: the app refuses to
// start (see enforce-policies.ts), and the role-matrix test walks this table.

const created = (res: Response) => res.status === 201;
const image = (action: string, extra: Partial<AuditRule> = {}): AuditRule => ({
  action: `image.${action}`,
  targetType: 'image',
  targetId: { param: 'id' },
  ...extra,
});
const album = (action: string, extra: Partial<AuditRule> = {}): AuditRule => ({
  action: `album.${action}`,
  targetType: 'album',
  targetId: { param: 'id' },
  ...extra,
});

export const ROUTE_POLICIES: readonly RoutePolicy[] = [
  // Operations and discovery.
  { method: 'GET', path: '/healthz', access: 'anyone' },
  { method: 'GET', path: '/readyz', access: 'anyone' },
  { method: 'GET', path: '/api/v1/openapi.json', access: 'anyone' },

  // The built-in issuer: keys and metadata for verifiers, sessions for people. Token answers
  // and `me` depend on the credential, so no shared cache keeps them.
  { method: 'GET', path: '/.well-known/jwks.json', access: 'anyone' },
  { method: 'GET', path: '/.well-known/openid-configuration', access: 'anyone' },
  { method: 'POST', path: '/api/v1/auth/login', access: 'anyone', personal: true, audit: null },
  { method: 'POST', path: '/api/v1/auth/refresh', access: 'anyone', personal: true, audit: null },
  { method: 'POST', path: '/api/v1/auth/logout', access: 'anyone', personal: true, audit: null },
  { method: 'GET', path: '/api/v1/auth/me', access: 'anyone', personal: true },

  // Public images, for anonymous clients and the edge.
  { method: 'GET', path: '/api/v1/public/search', access: 'anyone' },
  { method: 'GET', path: '/api/v1/public/images/by-sha/:sha256', access: 'anyone' },

  // The library, read.
  { method: 'GET', path: '/api/v1/images', access: 'reader' },
  { method: 'GET', path: '/api/v1/images/:id', access: 'reader' },
  { method: 'GET', path: '/api/v1/images/:id/original', access: 'reader' },
  { method: 'GET', path: '/api/v1/albums', access: 'reader' },
  { method: 'GET', path: '/api/v1/albums/:id', access: 'reader' },
  { method: 'GET', path: '/api/v1/duplicates', access: 'reader' },
  { method: 'GET', path: '/api/v1/search', access: 'reader' },

  // Uploads. batch-status tells the importer what to skip: a query, but the importer's.
  {
    method: 'POST',
    path: '/api/v1/images',
    access: 'editor',
    audit: image('upload', { targetId: { location: true }, when: created, body: false }),
  },
  { method: 'POST', path: '/api/v1/images/batch-status', access: 'editor', audit: null },
  // tus: creating and feeding an upload changes nothing in the library; the PATCH that
  // completes it stores the image. OPTIONS only states the server's tus capabilities.
  { method: 'OPTIONS', path: '/api/v1/uploads', access: 'anyone' },
  { method: 'POST', path: '/api/v1/uploads', access: 'editor', audit: null },
  { method: 'OPTIONS', path: '/api/v1/uploads/:id', access: 'anyone' },
  { method: 'GET', path: '/api/v1/uploads/:id', access: 'editor' },
  {
    method: 'PATCH',
    path: '/api/v1/uploads/:id',
    access: 'editor',
    audit: image('upload', {
      targetId: { header: 'x-aex-image-id' },
      when: (res) => res.headers.has('x-aex-image-id'),
      body: false,
    }),
  },
  { method: 'DELETE', path: '/api/v1/uploads/:id', access: 'editor', audit: null },

  // The library, changed.
  { method: 'PATCH', path: '/api/v1/images/:id', access: 'editor', audit: image('update') },
  { method: 'DELETE', path: '/api/v1/images/:id', access: 'editor', audit: image('delete') },
  {
    method: 'POST',
    path: '/api/v1/albums',
    access: 'editor',
    audit: album('create', { targetId: { location: true } }),
  },
  { method: 'PATCH', path: '/api/v1/albums/:id', access: 'editor', audit: album('update') },
  { method: 'DELETE', path: '/api/v1/albums/:id', access: 'editor', audit: album('delete') },
  {
    method: 'POST',
    path: '/api/v1/albums/:id/images',
    access: 'editor',
    audit: album('add-images'),
  },
  {
    method: 'DELETE',
    path: '/api/v1/albums/:id/images',
    access: 'editor',
    audit: album('remove-images'),
  },
  { method: 'PUT', path: '/api/v1/albums/:id/order', access: 'editor', audit: album('reorder') },
  {
    method: 'POST',
    path: '/api/v1/duplicates/resolve',
    access: 'editor',
    audit: {
      action: 'duplicates.resolve',
      targetType: 'image',
      targetId: { bodyField: 'keep' },
    },
  },

  // Administration: models and jobs, and who did what.
  { method: 'GET', path: '/api/v1/admin/models', access: 'admin' },
  {
    method: 'POST',
    path: '/api/v1/admin/models/activate',
    access: 'admin',
    audit: { action: 'model.activate', targetType: 'task', targetId: { bodyField: 'task' } },
  },
  {
    method: 'POST',
    path: '/api/v1/admin/reindex',
    access: 'admin',
    audit: { action: 'model.reindex', targetType: 'task', targetId: { bodyField: 'task' } },
  },
  { method: 'GET', path: '/api/v1/admin/audit', access: 'admin' },

  // Administration: users, their roles, API keys. Passwords sent are recorded as [redacted].
  { method: 'GET', path: '/api/v1/admin/users', access: 'admin' },
  {
    method: 'POST',
    path: '/api/v1/admin/users',
    access: 'admin',
    audit: { action: 'user.create', targetType: 'user', targetId: { location: true } },
  },
  {
    method: 'PATCH',
    path: '/api/v1/admin/users/:id',
    access: 'admin',
    audit: { action: 'user.update', targetType: 'user', targetId: { param: 'id' } },
  },
  { method: 'GET', path: '/api/v1/admin/api-keys', access: 'admin' },
  {
    method: 'POST',
    path: '/api/v1/admin/api-keys',
    access: 'admin',
    audit: { action: 'apikey.create', targetType: 'apikey', targetId: { responseField: 'id' } },
  },
  {
    method: 'DELETE',
    path: '/api/v1/admin/api-keys/:id',
    access: 'admin',
    audit: { action: 'apikey.revoke', targetType: 'apikey', targetId: { param: 'id' } },
  },
];
