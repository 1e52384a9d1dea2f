import { AexError, UploadResult } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { ImageQueryService } from '../../services/image-queries.ts';
import type { IngestService } from '../../services/ingest-image.ts';
import { problems } from '../problems.ts';

const binary = { schema: z.string().meta({ format: 'binary' }) };

export const uploadImageRoute = createRoute({
  method: 'post',
  path: '/api/v1/images',
  summary: 'Upload an image',
  description:
    'The body is the image file itself, streamed. Its type is detected from its bytes. ' +
    'The same bytes uploaded again return the existing image (200) instead of a new one (201).',
  request: {
    body: {
      required: true,
      content: { 'application/octet-stream': binary, 'image/*': binary },
    },
  },
  responses: {
    201: { description: 'Stored', content: { 'application/json': { schema: UploadResult } } },
    200: {
      description: 'Already stored',
      content: { 'application/json': { schema: UploadResult } },
    },
    400: problems[400],
    413: problems[413],
    415: problems[415],
    500: problems[500],
  },
});

/** `POST /api/v1/images`: streamed upload, deduplicated by sha256. */
export function registerUploadImage(
  app: OpenAPIHono<AexEnv>,
  deps: { ingest: IngestService; queries: ImageQueryService; maxUploadBytes: number },
): void {
  app.openapi(uploadImageRoute, async (c) => {
    // Refuse a declared oversize body before reading a byte of it.
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > deps.maxUploadBytes) {
      throw new AexError(
        'payload_too_large',
        `The upload is ${declared} bytes, more than the limit of ${deps.maxUploadBytes} (AEX_MAX_UPLOAD_BYTES).`,
      );
    }
    const { image, created } = await deps.ingest.ingest(c.req.raw.body);
    const body = { image: await deps.queries.dto(image, { justCreated: created }), created };
    if (created) {
      c.header('location', `/api/v1/images/${image.id}`);
      return c.json(body, 201);
    }
    return c.json(body, 200);
  });
}
