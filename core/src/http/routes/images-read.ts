import { Image, ImageIdParam, ImageList, ListImagesQuery } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { ImageQueryService } from '../../services/image-queries.ts';
import { problems } from '../problems.ts';

export const listImagesRoute = createRoute({
  method: 'get',
  path: '/api/v1/images',
  summary: 'List images: filtered, sorted, keyset-paged',
  description:
    'Newest taken first unless `sort` says otherwise. Pass `nextCursor` as `cursor` for the ' +
    'next page, with the same sort; a cursor made for another sort is refused. `sort=album` ' +
    "gives an album's own order and needs `album`.",
  request: { query: ListImagesQuery },
  responses: {
    200: {
      description: 'A page of images',
      content: { 'application/json': { schema: ImageList } },
    },
    400: problems[400],
    404: problems[404],
  },
});

export const getImageRoute = createRoute({
  method: 'get',
  path: '/api/v1/images/{id}',
  summary: 'One image with its tags, faces and recognised text',
  request: { params: ImageIdParam },
  responses: {
    200: { description: 'The image', content: { 'application/json': { schema: Image } } },
    400: problems[400],
    404: problems[404],
  },
});

/** `GET /api/v1/images` and `GET /api/v1/images/:id`. */
export function registerReadImages(
  app: OpenAPIHono<AexEnv>,
  deps: { queries: ImageQueryService },
): void {
  app.openapi(listImagesRoute, async (c) =>
    c.json(await deps.queries.list(c.req.valid('query')), 200),
  );
  app.openapi(getImageRoute, async (c) =>
    c.json(await deps.queries.get(c.req.valid('param').id), 200),
  );
}
