import {
  Album,
  AlbumImagesChange,
  AlbumList,
  AlbumOrder,
  CreateAlbum,
  Id,
  UpdateAlbum,
} from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AlbumService } from '../../services/albums.ts';
import { problems } from '../problems.ts';

const AlbumIdParam = z.object({ id: Id });
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const albumAnswer = (description: string) => ({ description, content: json(Album) });
const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: json(schema) });
const path = '/api/v1/albums/{id}';

const createAlbumRoute = createRoute({
  method: 'post',
  path: '/api/v1/albums',
  summary: 'Create an album',
  request: { body: body(CreateAlbum) },
  responses: { 201: albumAnswer('Created'), 400: problems[400] },
});

const listAlbumsRoute = createRoute({
  method: 'get',
  path: '/api/v1/albums',
  summary: 'Every album, newest first, with its image count',
  responses: { 200: { description: 'The albums', content: json(AlbumList) } },
});

const getAlbumRoute = createRoute({
  method: 'get',
  path,
  summary: 'One album',
  description: 'Its images, in order: `GET /api/v1/images?album=<id>&sort=album`.',
  request: { params: AlbumIdParam },
  responses: { 200: albumAnswer('The album'), 400: problems[400], 404: problems[404] },
});

const updateAlbumRoute = createRoute({
  method: 'patch',
  path,
  summary: 'Rename, describe, or set the cover (an image of the album)',
  request: { params: AlbumIdParam, body: body(UpdateAlbum) },
  responses: { 200: albumAnswer('The album as changed'), 400: problems[400], 404: problems[404] },
});

const deleteAlbumRoute = createRoute({
  method: 'delete',
  path,
  summary: 'Delete an album (its images stay)',
  request: { params: AlbumIdParam },
  responses: { 204: { description: 'Deleted' }, 400: problems[400], 404: problems[404] },
});

const addImagesRoute = createRoute({
  method: 'post',
  path: `${path}/images`,
  summary: 'Add images, at the end or before one of the album',
  description: 'Images already in the album stay where they are. Unknown image ids are refused.',
  request: { params: AlbumIdParam, body: body(AlbumImagesChange) },
  responses: { 200: albumAnswer('The album'), 400: problems[400], 404: problems[404] },
});

const removeImagesRoute = createRoute({
  method: 'delete',
  path: `${path}/images`,
  summary: 'Remove images from the album (they stay in AEX)',
  request: { params: AlbumIdParam, body: body(AlbumImagesChange) },
  responses: { 200: albumAnswer('The album'), 400: problems[400], 404: problems[404] },
});

const reorderRoute = createRoute({
  method: 'put',
  path: `${path}/order`,
  summary: "Set the album's complete order",
  request: { params: AlbumIdParam, body: body(AlbumOrder) },
  responses: { 200: albumAnswer('The album'), 400: problems[400], 404: problems[404] },
});

/** `/api/v1/albums`: albums, their images and their order. */
export function registerAlbums(app: OpenAPIHono<AexEnv>, deps: { albums: AlbumService }): void {
  const { albums } = deps;
  app.openapi(createAlbumRoute, async (c) => {
    const album = await albums.create(c.req.valid('json'));
    c.header('location', `/api/v1/albums/${album.id}`);
    return c.json(album, 201);
  });
  app.openapi(listAlbumsRoute, async (c) => c.json({ items: await albums.list() }, 200));
  app.openapi(getAlbumRoute, async (c) => c.json(await albums.get(c.req.valid('param').id), 200));
  app.openapi(updateAlbumRoute, async (c) =>
    c.json(await albums.update(c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deleteAlbumRoute, async (c) => {
    await albums.delete(c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(addImagesRoute, async (c) => {
    const { imageIds, before } = c.req.valid('json');
    return c.json(await albums.addImages(c.req.valid('param').id, imageIds, before), 200);
  });
  app.openapi(removeImagesRoute, async (c) => {
    const { imageIds, before } = c.req.valid('json');
    return c.json(await albums.removeImages(c.req.valid('param').id, imageIds, before), 200);
  });
  app.openapi(reorderRoute, async (c) =>
    c.json(await albums.reorder(c.req.valid('param').id, c.req.valid('json').imageIds), 200),
  );
}
