import { DuplicateGroups, DuplicatesQuery, Image, ResolveDuplicates } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { NearDuplicateService } from '../../services/near-duplicates.ts';
import { problems } from '../problems.ts';

export const listDuplicatesRoute = createRoute({
  method: 'get',
  path: '/api/v1/duplicates',
  summary: 'Groups of near-duplicate images',
  description:
    'Images whose perceptual hashes differ in at most `maxDistance` of 64 bits, chained into ' +
    'groups (a resized, a re-encoded and a cropped copy of one photo form one group). ' +
    'Largest groups first; in each, the image with the most pixels first.',
  request: { query: DuplicatesQuery },
  responses: {
    200: {
      description: 'The groups',
      content: { 'application/json': { schema: DuplicateGroups } },
    },
    400: problems[400],
  },
});

export const resolveDuplicatesRoute = createRoute({
  method: 'post',
  path: '/api/v1/duplicates/resolve',
  summary: 'Keep one image of a group and delete the others',
  description:
    'The others are deleted as `DELETE /api/v1/images/{id}` does (blobs and all). The kept ' +
    'image joins their albums (taking their place, and their cover), gains their keywords and ' +
    'the best rating, and takes a description, taken-at or location it lacks from them.',
  request: {
    body: { required: true, content: { 'application/json': { schema: ResolveDuplicates } } },
  },
  responses: {
    200: { description: 'The kept image', content: { 'application/json': { schema: Image } } },
    400: problems[400],
  },
});

/** `GET /api/v1/duplicates` and `POST /api/v1/duplicates/resolve`. */
export function registerDuplicates(
  app: OpenAPIHono<AexEnv>,
  deps: { duplicates: NearDuplicateService },
): void {
  app.openapi(listDuplicatesRoute, async (c) =>
    c.json(await deps.duplicates.groups(c.req.valid('query').maxDistance), 200),
  );
  app.openapi(resolveDuplicatesRoute, async (c) =>
    c.json(await deps.duplicates.resolve(c.req.valid('json')), 200),
  );
}
