import {
  type AexEnv,
  problemErrorHandler,
  problemNotFound,
  problemResponse,
  requestContext,
} from '@aex/shared/http';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { TokenVerifier } from '@aex/shared/ports/identity/mod';
import type { Logger } from '@aex/shared/ports/log';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { ImageRepository } from '../db/image-repository.ts';
import type { PublicImagesRepository } from '../db/public-images-repository.ts';
import type { Identity } from '../identity/mod.ts';
import type { AlbumService } from '../services/albums.ts';
import type { AuditLog } from '../services/audit-log.ts';
import type { IdempotencyService } from '../services/idempotency.ts';
import type { ImageEditService } from '../services/image-edits.ts';
import type { ImageQueryService } from '../services/image-queries.ts';
import type { IngestService } from '../services/ingest-image.ts';
import type { NearDuplicateService } from '../services/near-duplicates.ts';
import type { ModelAdminService } from '../services/results/model-admin.ts';
import type { ResumableUploads } from '../services/resumable-uploads.ts';
import type { SearchService } from '../services/search.ts';
import {
  assertEveryRouteHasPolicy,
  installRoutePolicies,
} from './authorization/enforce-policies.ts';
import { ROUTE_POLICIES } from './authorization/route-policies.ts';
import { authenticate } from './middleware/authenticate/index.ts';
import { registerAdminAudit } from './routes/admin-audit.ts';
import { registerAdminModels } from './routes/admin-models.ts';
import { registerAlbums } from './routes/albums.ts';
import { registerIdentity } from './routes/auth-routes.ts';
import { registerDuplicates } from './routes/duplicates.ts';
import { registerBatchStatus } from './routes/images-batch-status.ts';
import { registerEditImages } from './routes/images-edit.ts';
import { registerOriginalImage } from './routes/images-original.ts';
import { registerReadImages } from './routes/images-read.ts';
import { registerUploadImage } from './routes/images-upload.ts';
import { registerPublicImages } from './routes/public-images.ts';
import { registerSearch } from './routes/search.ts';
import { registerTusUploads, UPLOADS_PATH } from './routes/uploads-tus.ts';

export interface CoreAppDeps {
  log: Logger;
  ingest: IngestService;
  queries: ImageQueryService;
  edits: ImageEditService;
  albums: AlbumService;
  duplicates: NearDuplicateService;
  /** Where originals are streamed from. */
  blobs: BlobStore;
  maxUploadBytes: number;
  /** Answers to requests sent with an Idempotency-Key. */
  idempotency: IdempotencyService;
  /** Resumable (tus) uploads at /api/v1/uploads. */
  uploads: ResumableUploads;
  /** Which sha256 sums are stored, for batch-status. */
  knownImages: Pick<ImageRepository, 'idsBySha256'>;
  /** Search by meaning, likeness and recognised text. */
  search: SearchService;
  /** Which model version each task serves; reindex. */
  models: ModelAdminService;
  /** Resolves when every dependency answers; `/readyz` reports it. */
  ready: () => Promise<void>;
  /** The built-in identity provider: login, JWKS, discovery, users, API keys. */
  identity: Identity;
  /** Bearer tokens: of the external OIDC issuer (AEX_OIDC_ISSUER), else of the built-in one. */
  tokens: TokenVerifier;
  /** Who changed what: written after every change, read at /api/v1/admin/audit. */
  audit: AuditLog;
  /** Whether an image is public, for the edge's thumbnails. */
  publicImages: Pick<PublicImagesRepository, 'isPublicSha256'>;
}

const MAX_JSON_BODY_BYTES = 1024 * 1024;
/** An album's complete order: up to 100,000 ids of 38 bytes each in JSON. */
const MAX_ALBUM_ORDER_BYTES = 8 * 1024 * 1024;

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
  // Who is asking, then whether they may: before any body is read or any route runs.
  app.use(authenticate({ tokens: deps.tokens, apiKeys: deps.identity.apiKeys }));
  installRoutePolicies(app, ROUTE_POLICIES, { audit: deps.audit });

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
  const albumOrderBodies = bodyLimit({
    maxSize: MAX_ALBUM_ORDER_BYTES,
    onError: (c) =>
      problemResponse(
        c,
        'payload_too_large',
        `An album order is at most ${MAX_ALBUM_ORDER_BYTES} bytes.`,
      ),
  });
  app.use('*', async function limitNonUploadBodies(c, next) {
    if (c.req.method === 'PUT' && /^\/api\/v1\/albums\/[^/]+\/order$/.test(c.req.path)) {
      return albumOrderBodies(c, next);
    }
    if (c.req.method === 'POST' && c.req.path === '/api/v1/images') return next();
    // tus bounds its own bodies: Upload-Length, at most AEX_MAX_UPLOAD_BYTES.
    if (
      (c.req.method === 'POST' || c.req.method === 'PATCH') &&
      (c.req.path === UPLOADS_PATH || c.req.path.startsWith(`${UPLOADS_PATH}/`))
    ) {
      return next();
    }
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
  registerBatchStatus(app, deps);
  registerTusUploads(app, deps);
  registerReadImages(app, deps);
  registerEditImages(app, deps);
  registerOriginalImage(app, deps);
  registerAlbums(app, deps);
  registerDuplicates(app, deps);
  registerSearch(app, deps);
  registerAdminModels(app, deps);
  registerIdentity(app, deps);
  registerPublicImages(app, deps);
  registerAdminAudit(app, deps);

  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'AEX API',
      version: '1',
      description: 'Upload, browse and search images. Errors are application/problem+json.',
    },
  });
  // A route without a rule in route-policies.ts stops core here, at start, in every test.
  assertEveryRouteHasPolicy(app, ROUTE_POLICIES);
  return app;
}
