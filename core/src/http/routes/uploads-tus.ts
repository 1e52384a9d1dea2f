import { AexError, type ErrorCode } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  type IdempotencyService,
  parseIdempotencyKey,
  requestFingerprint,
  type StoredResponse,
  storedProblem,
  storedToResponse,
} from '../../services/idempotency.ts';
import { type ResumableUploads, UPLOAD_ID } from '../../services/resumable-uploads.ts';
import { describeTusRoutes } from './uploads-tus-doc.ts';

/** Where resumable uploads are created; an upload is `/api/v1/uploads/<id>`. */
export const UPLOADS_PATH = '/api/v1/uploads';
const TUS_HEADERS = { 'tus-resumable': '1.0.0' };

// tus error statuses as AEX codes. 403 (a missing Upload-Offset or Content-Type, in
// tus-node-server) is a bad request; 410 (expired, not yet swept) is a 404, which the tus
// spec allows for a removed upload. Others (412 version, 501 extension) pass unchanged:
// they are protocol negotiation, and tus clients read only the status.
const CODE_BY_TUS_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_input',
  403: 'invalid_input',
  404: 'not_found',
  409: 'conflict',
  410: 'not_found',
  413: 'payload_too_large',
};

/**
 * Resumable uploads (tus 1.0.0) at `/api/v1/uploads`: the tus server answers, AEX renders its
 * refusals as problem+json and adds `Idempotency-Key` to the creation request. See
 * `uploads-tus-doc.ts` for the surface as clients see it.
 */
export function registerTusUploads(
  app: OpenAPIHono<AexEnv>,
  deps: { uploads: ResumableUploads; idempotency: IdempotencyService; maxUploadBytes: number },
): void {
  describeTusRoutes(app, UPLOADS_PATH);

  const hints: Record<number, string> = {
    403: 'A PATCH needs Upload-Offset and Content-Type: application/offset+octet-stream.',
    404: `No such upload: create one with POST ${UPLOADS_PATH}.`,
    409: 'Upload-Offset is not where the upload stands: ask with HEAD, then resume from its Upload-Offset.',
    410: 'The upload expired (AEX_UPLOAD_EXPIRY): create a new one.',
    413: `An upload is at most ${deps.maxUploadBytes} bytes (AEX_MAX_UPLOAD_BYTES), and its PATCHes may not carry more than its Upload-Length.`,
  };

  async function tus(c: Context<AexEnv>): Promise<Response> {
    const outcome = await deps.uploads.handle(c.req.raw);
    if (outcome.failure instanceof AexError) {
      const f = outcome.failure;
      throw new AexError(f.code, f.detail, { headers: { ...f.headers, ...TUS_HEADERS } });
    }
    if (outcome.failure) throw outcome.failure;
    const res = outcome.response;
    const code = CODE_BY_TUS_STATUS[res.status];
    if (code) {
      const said = (await res.text()).trim().replace(/\.$/, '');
      throw new AexError(code, [said, hints[res.status]].filter(Boolean).join(': '), {
        headers: TUS_HEADERS,
      });
    }
    if (res.status >= 500 && res.status !== 501) {
      // The tus server's own failure (disk, lock): logged and shown as `internal`.
      throw new Error(`tus server answered ${res.status}: ${(await res.text()).trim()}`);
    }
    if (outcome.imageId) res.headers.set('x-aex-image-id', outcome.imageId);
    return res;
  }

  app.on(['POST', 'OPTIONS'], UPLOADS_PATH, async (c) => {
    const key = c.req.method === 'POST' && parseIdempotencyKey(c.req.header('idempotency-key'));
    if (!key) return tus(c);
    const header = (name: string) => c.req.header(name) ?? '';
    const { response, replayed } = await deps.idempotency.run(key, {
      fingerprint: async () =>
        requestFingerprint(
          'POST',
          UPLOADS_PATH,
          header('upload-length'),
          header('upload-defer-length'),
          header('upload-metadata'),
        ),
      execute: async () => stored(await tus(c)),
      describeFailure: (err) => storedProblem(err, c.get('requestId')),
    });
    return storedToResponse(response, replayed);
  });

  app.on(['GET', 'PATCH', 'DELETE', 'OPTIONS'], `${UPLOADS_PATH}/:id`, async (c) => {
    // Hono serves HEAD with the GET route (dropping the body). A real GET would read an
    // upload's bytes back, which tus does not define and AEX does not offer.
    if (c.req.method === 'GET') {
      throw new AexError(
        'not_found',
        'An upload answers HEAD, PATCH and DELETE; the image it becomes is at /api/v1/images/<X-Aex-Image-Id>.',
      );
    }
    if (c.req.method !== 'OPTIONS' && !UPLOAD_ID.test(c.req.param('id'))) {
      throw new AexError('not_found', hints[404] as string, { headers: TUS_HEADERS });
    }
    return tus(c);
  });
}

/**
 * A creation answer to replay. Upload-Offset is left out: after a replay the upload may
 * have moved on, and a tus client without it asks with HEAD.
 */
async function stored(res: Response): Promise<StoredResponse> {
  const headers: Record<string, string> = {};
  const volatile = new Set([
    'date',
    'content-length',
    'connection',
    'x-request-id',
    'upload-offset',
  ]);
  res.headers.forEach((value, name) => {
    if (!volatile.has(name)) headers[name] = value;
  });
  const text = await res.text();
  return { status: res.status, headers, body: text === '' ? null : text };
}
