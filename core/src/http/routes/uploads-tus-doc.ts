import type { AexEnv } from '@aex/shared/http';
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { problems } from '../problems.ts';

const header = (description: string, example?: string) =>
  z.string().meta(example === undefined ? { description } : { description, example });
const plain = (description: string) => ({ schema: { type: 'string' as const }, description });

const tusResumable = header('Protocol version; always `1.0.0`', '1.0.0');
const uploadId = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .meta({ description: 'The upload id, from the Location of its creation' }),
});
const conflict = {
  description: 'Upload-Offset is not where the upload stands (`conflict`): HEAD, then resume.',
  content: problems[400].content,
};

/**
 * The tus routes in the OpenAPI document. They are served by the tus server, not by zod
 * routes, so they are only described here (the tus protocol validates its own headers).
 */
export function describeTusRoutes(app: OpenAPIHono<AexEnv>, path: string): void {
  const registry = app.openAPIRegistry;
  const tags = ['Resumable uploads (tus 1.0.0)'];
  registry.registerPath({
    method: 'post',
    path,
    tags,
    summary: 'Create a resumable upload',
    description:
      'tus 1.0.0 with the creation, creation-with-upload, creation-defer-length, termination ' +
      'and expiration extensions (https://tus.io/protocols/resumable-upload). Upload-Metadata ' +
      'keys AEX reads (values base64, as tus defines): `filename` (or `name`), the display ' +
      'name, cleaned like X-Aex-File-Name; `modified`, ISO 8601 or epoch ms; `sidecar`, ' +
      'SidecarMetadata as JSON. Bad values are refused here, before any byte is sent. With ' +
      '`Idempotency-Key`, a retried creation returns the first Location instead of a second upload.',
    request: {
      headers: z.object({
        'tus-resumable': tusResumable,
        'upload-length': header('Size of the file in bytes, at most Tus-Max-Size').optional(),
        'upload-defer-length': header('`1` when the size is not known yet').optional(),
        'upload-metadata': header('Comma-separated `key base64value` pairs').optional(),
        'idempotency-key': header('As on POST /api/v1/images').optional(),
      }),
    },
    responses: {
      201: {
        description: 'Created; PATCH the bytes to Location. Upload-Expires says until when.',
        headers: {
          Location: plain('The upload, `/api/v1/uploads/<id>` (relative)'),
          'Upload-Expires': plain('When an unfinished upload is removed (AEX_UPLOAD_EXPIRY)'),
          'Idempotent-Replayed': plain('`true` on the stored answer to a retried creation'),
        },
      },
      400: problems[400],
      409: { description: 'Idempotency-Key in use or reused', content: problems[400].content },
      412: { description: 'Tus-Resumable missing or not 1.0.0 (text/plain)' },
      413: problems[413],
    },
  });
  registry.registerPath({
    method: 'options',
    path,
    tags,
    summary: 'What the tus server supports',
    responses: {
      204: {
        description: 'Tus-Version, Tus-Extension and Tus-Max-Size (AEX_MAX_UPLOAD_BYTES)',
      },
    },
  });
  registry.registerPath({
    method: 'head',
    path: `${path}/{id}`,
    tags,
    summary: 'Where an upload stands',
    description:
      'Upload-Offset is how many bytes the server has: resume from there. Once the upload ' +
      'is complete and ingested, Upload-Offset equals Upload-Length and X-Aex-Image-Id names ' +
      'the image, until the upload expires.',
    request: { params: uploadId, headers: z.object({ 'tus-resumable': tusResumable }) },
    responses: {
      200: {
        description: 'The offset, the length and the metadata',
        headers: {
          'Upload-Offset': plain('Bytes received'),
          'Upload-Length': plain('Bytes in all'),
          'X-Aex-Image-Id': plain('The image, once the upload is complete'),
        },
      },
      404: { description: 'No such upload, or it expired (no body: HEAD)' },
    },
  });
  registry.registerPath({
    method: 'patch',
    path: `${path}/{id}`,
    tags,
    summary: 'Send bytes from Upload-Offset on',
    description:
      'The body is bytes of the file from Upload-Offset on (Content-Type: ' +
      'application/offset+octet-stream), as many as fit in one request. A dropped connection ' +
      'keeps what arrived: HEAD tells the offset to resume from. The PATCH that completes the ' +
      'upload ingests it before answering: 204 with X-Aex-Image-Id, or the problem that ' +
      'stopped the image (415 not an image, 400 corrupt, 413 too many pixels), after which the ' +
      'upload is gone.',
    request: {
      params: uploadId,
      headers: z.object({
        'tus-resumable': tusResumable,
        'upload-offset': header('Where these bytes go; must equal the offset the server has'),
      }),
      body: {
        content: {
          'application/offset+octet-stream': { schema: z.string().meta({ format: 'binary' }) },
        },
      },
    },
    responses: {
      204: {
        description: 'Stored; Upload-Offset is the new offset',
        headers: {
          'Upload-Offset': plain('Bytes received so far'),
          'X-Aex-Image-Id': plain('On the last PATCH: the image the upload became'),
          'X-Aex-Image-Created': plain(
            'On the last PATCH: `false` when those bytes were already an image',
          ),
        },
      },
      400: problems[400],
      404: problems[404],
      409: conflict,
      413: problems[413],
      415: problems[415],
    },
  });
  registry.registerPath({
    method: 'delete',
    path: `${path}/{id}`,
    tags,
    summary: 'Abandon an upload (termination)',
    request: { params: uploadId, headers: z.object({ 'tus-resumable': tusResumable }) },
    responses: { 204: { description: 'Removed with its bytes' }, 404: problems[404] },
  });
}
