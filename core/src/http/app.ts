import {
  type AexEnv,
  problemErrorHandler,
  problemNotFound,
  problemResponse,
  requestContext,
} from '@aex/shared/http';
import type { Logger } from '@aex/shared/ports/log';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { ImageQueryService } from '../services/image-queries.ts';
import type { IngestService } from '../services/ingest-image.ts';
import { registerReadImages } from './routes/images-read.ts';
import { registerUploadImage } from './routes/images-upload.ts';

export interface CoreAppDeps {
  log: Logger;
  ingest: IngestService;
  queries: ImageQueryService;
  maxUploadBytes: number;
  /** Resolves when every dependency answers; `/readyz` reports it. */
  ready: () => Promise<void>;
}

const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** Core's HTTP API. Every route is described by zod schemas, which also make the OpenAPI document. */
export function createCoreApp(deps: CoreAppDeps): OpenAPIHono<AexEnv> {
  const app = new OpenAPIHono<AexEnv>({
    defaultHook(result, c) {
      if (result.success) return;
      const detail = result.error.issues
        .map((i) => `${i.path.join('.') || 'request'}: ${i.message}`)
        .join('; ');
      return problemResponse(c, 'invalid_input', detail);
    },
  });
  app.use(requestContext({ log: deps.log, quietPaths: ['/healthz', '/readyz'] }));
  app.onError(problemErrorHandler());
  app.notFound(problemNotFound());

  // Every body but an upload's is small (JSON): capped here so no route can be made to
  // buffer a huge one. Uploads stream to disk under their own limit.
  const smallBodies = bodyLimit({
    maxSize: MAX_JSON_BODY_BYTES,
    onError: (c) =>
      problemResponse(
        c,
        'payload_too_large',
        `Request bodies here are at most ${MAX_JSON_BODY_BYTES} bytes.`,
      ),
  });
  app.use('*', async function limitNonUploadBodies(c, next) {
    if (c.req.method === 'POST' && c.req.path === '/api/v1/images') return next();
    return smallBodies(c, next);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await deps.ready();
      return c.json({ status: 'ready' });
    } catch (err) {
      return problemResponse(c, 'unavailable', `Not ready: ${(err as Error).message}`);
    }
  });

  // Routes: one register call per file in ./routes.
  registerUploadImage(app, deps);
  registerReadImages(app, deps);

  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'AEX API',
      version: '1',
      description: 'Upload, browse and search images. Errors are application/problem+json.',
    },
  });
  return app;
}
