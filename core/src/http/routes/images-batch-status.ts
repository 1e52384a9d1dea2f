import { BatchStatusRequest, BatchStatusResponse } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { ImageRepository } from '../../db/image-repository.ts';
import { problems } from '../problems.ts';

export const batchStatusRoute = createRoute({
  method: 'post',
  path: '/api/v1/images/batch-status',
  summary: 'Which of these originals are already stored',
  description:
    'Send the sha256 of up to 1000 files before uploading them; upload only those whose ' +
    '`imageId` is null. The results are in request order, one per sum sent (a sum sent twice ' +
    'is answered twice).',
  request: {
    body: { required: true, content: { 'application/json': { schema: BatchStatusRequest } } },
  },
  responses: {
    200: {
      description: 'One result per sum, in request order',
      content: { 'application/json': { schema: BatchStatusResponse } },
    },
    400: problems[400],
    413: problems[413],
  },
});

/** `POST /api/v1/images/batch-status`. */
export function registerBatchStatus(
  app: OpenAPIHono<AexEnv>,
  deps: { knownImages: Pick<ImageRepository, 'idsBySha256'> },
): void {
  app.openapi(batchStatusRoute, async (c) => {
    const { sha256 } = c.req.valid('json');
    // One query for the distinct sums; the answer repeats them as asked.
    const found = await deps.knownImages.idsBySha256([...new Set(sha256)]);
    const results = sha256.map((sum) => ({ sha256: sum, imageId: found.get(sum) ?? null }));
    return c.json({ results } satisfies BatchStatusResponse, 200);
  });
}
