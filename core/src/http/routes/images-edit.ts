import { Image, ImageIdParam, UpdateImage } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { ImageEditService } from '../../services/image-edits.ts';
import { problems } from '../problems.ts';

export const updateImageRoute = createRoute({
  method: 'patch',
  path: '/api/v1/images/{id}',
  summary: "Change an image's description, visibility, taken-at, keywords or rating",
  description:
    'Only the fields sent change; null clears. A takenAt sets takenAtSource to `user`, and ' +
    'takenAtOffset to the one sent, else to the offset written in takenAt (null for `Z`). ' +
    'keywords replaces the list.',
  request: {
    params: ImageIdParam,
    body: { required: true, content: { 'application/json': { schema: UpdateImage } } },
  },
  responses: {
    200: {
      description: 'The image as changed',
      content: { 'application/json': { schema: Image } },
    },
    400: problems[400],
    404: problems[404],
  },
});

export const deleteImageRoute = createRoute({
  method: 'delete',
  path: '/api/v1/images/{id}',
  summary: 'Delete an image and its blobs',
  description:
    'Removes the image from its albums, deletes its original and derived images, and ' +
    'publishes `aex.image.deleted`.',
  request: { params: ImageIdParam },
  responses: {
    204: { description: 'Deleted' },
    400: problems[400],
    404: problems[404],
  },
});

/** `PATCH /api/v1/images/:id` and `DELETE /api/v1/images/:id`. */
export function registerEditImages(
  app: OpenAPIHono<AexEnv>,
  deps: { edits: ImageEditService },
): void {
  app.openapi(updateImageRoute, async (c) =>
    c.json(await deps.edits.update(c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deleteImageRoute, async (c) => {
    await deps.edits.delete(c.req.valid('param').id);
    return c.body(null, 204);
  });
}
