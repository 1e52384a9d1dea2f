import { AuditList, AuditQuery } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AuditLog } from '../../services/audit-log.ts';
import { problems } from '../problems.ts';

export const listAuditRoute = createRoute({
  method: 'get',
  path: '/api/v1/admin/audit',
  summary: 'Who changed what: the audit log, newest first',
  description:
    'Every change (uploads, edits, deletes, albums, duplicate resolutions, model activations, ' +
    'reindexing, users and API keys) with its actor, target and request id. Filter by `actor` ' +
    '(a subject), `targetType` (+ `targetId`) or `action`; page with `nextCursor`.',
  request: { query: AuditQuery },
  responses: {
    200: {
      description: 'A page of entries',
      content: { 'application/json': { schema: AuditList } },
    },
    400: problems[400],
  },
});

/** `GET /api/v1/admin/audit`. */
export function registerAdminAudit(app: OpenAPIHono<AexEnv>, deps: { audit: AuditLog }): void {
  app.openapi(listAuditRoute, async (c) =>
    c.json(await deps.audit.list(c.req.valid('query')), 200),
  );
}
