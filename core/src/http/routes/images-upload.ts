import { AexError, Problem, UploadResult } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { SpooledUpload } from '../../ingest/upload-spool.ts';
import {
  type IdempotencyService,
  parseIdempotencyKey,
  REPLAYED_HEADER,
  requestFingerprint,
  type StoredResponse,
  storedProblem,
  storedToResponse,
} from '../../services/idempotency.ts';
import type { ImageQueryService } from '../../services/image-queries.ts';
import type { IngestResult, IngestService } from '../../services/ingest-image.ts';
import { problems } from '../problems.ts';
import { UploadHeaders, uploadOptionsFromHeaders } from '../upload-headers.ts';

const binary = { schema: z.string().meta({ format: 'binary' }) };
const PATH = '/api/v1/images';

/** `Idempotency-Key`, as upload routes document it. */
export const IdempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .meta({
      description:
        'Makes a retry safe (IETF draft "The Idempotency-Key HTTP Header Field"): 1–255 ' +
        'printable ASCII characters, quoted or not. The same key with the same request within ' +
        '24 h (AEX_IDEMPOTENCY_TTL) returns the first answer again, with ' +
        '`Idempotent-Replayed: true`, without doing the work twice. The same key with another ' +
        'request, or while the first is still running, is a 409.',
      example: '0192f0c4-8b7a-7cc2-9d4e-0a0b0c0d0e0f',
    }),
});

const uploaded = (description: string) => ({
  description,
  headers: {
    [REPLAYED_HEADER]: {
      description: '`true` when this is the stored answer to an earlier request with this key',
      schema: { type: 'string' as const },
    },
  },
  content: { 'application/json': { schema: UploadResult } },
});

export const uploadImageRoute = createRoute({
  method: 'post',
  path: PATH,
  summary: 'Upload an image',
  description:
    'The body is the image file itself, streamed. Its type is detected from its bytes. ' +
    'The same bytes uploaded again return the existing image (200) instead of a new one (201). ' +
    'For large files on unreliable links, use the resumable uploads at `/api/v1/uploads`.',
  request: {
    headers: UploadHeaders.extend(IdempotencyKeyHeader.shape),
    body: {
      required: true,
      content: { 'application/octet-stream': binary, 'image/*': binary },
    },
  },
  responses: {
    201: uploaded('Stored'),
    200: uploaded('Already stored'),
    400: problems[400],
    409: {
      description:
        'The Idempotency-Key is in use by a request still running (retry), or was used for another request (`conflict`).',
      content: { 'application/problem+json': { schema: Problem } },
    },
    413: problems[413],
    415: problems[415],
    500: problems[500],
  },
});

/** `POST /api/v1/images`: streamed upload, deduplicated by sha256, optionally idempotent. */
export function registerUploadImage(
  app: OpenAPIHono<AexEnv>,
  deps: {
    ingest: IngestService;
    queries: ImageQueryService;
    idempotency: IdempotencyService;
    maxUploadBytes: number;
  },
): void {
  app.openapi(uploadImageRoute, async (c) => {
    // Everything the headers say is checked before a byte of the body is read.
    const options = uploadOptionsFromHeaders(c.req.raw.headers);
    const key = parseIdempotencyKey(c.req.header('idempotency-key'));
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > deps.maxUploadBytes) {
      throw new AexError(
        'payload_too_large',
        `The upload is ${declared} bytes, more than the limit of ${deps.maxUploadBytes} (AEX_MAX_UPLOAD_BYTES).`,
      );
    }
    const answer = async (result: IngestResult): Promise<StoredResponse> => {
      const { image, created } = result;
      const body: UploadResult = {
        image: await deps.queries.dto(image, { justCreated: created }),
        created,
      };
      const headers: Record<string, string> = created ? { location: `${PATH}/${image.id}` } : {};
      return { status: created ? 201 : 200, headers, body };
    };
    // Answers are built as stored responses (status, headers, body), the shape a replay
    // has, and sent as raw Responses: their types are the documented ones above.
    const send = (stored: StoredResponse, replayed: boolean) =>
      storedToResponse(stored, replayed) as never;
    const body = c.req.raw.body;
    if (key === undefined)
      return send(await answer(await deps.ingest.ingest(body, options)), false);
    let spooled: SpooledUpload | undefined;
    try {
      const { response, replayed } = await deps.idempotency.run(key, {
        // The fingerprint needs the body's sha256: the spool computes it on the way.
        fingerprint: async () => {
          spooled = await deps.ingest.receive(body);
          return requestFingerprint('POST', PATH, spooled.sha256);
        },
        execute: async () => {
          const upload = spooled as SpooledUpload;
          spooled = undefined; // ingestReceived takes the file over
          return answer(await deps.ingest.ingestReceived(upload, options));
        },
        describeFailure: (err) => storedProblem(err, c.get('requestId')),
      });
      return send(response, replayed);
    } finally {
      await spooled?.discard();
    }
  });
}
