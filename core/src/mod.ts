import { join } from 'node:path';
import { ConfigError, Subjects } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { type RunningConsumer, runConsumer } from '@aex/shared/ports/event-bus/run-consumer';
import { createTokenVerifier, externalIssuerOptions } from '@aex/shared/ports/identity/mod';
import type { Logger } from '@aex/shared/ports/log';
import type { Rpc } from '@aex/shared/ports/rpc/rpc';
import type { CoreConfig } from './config.ts';
import { AlbumRepository } from './db/album-repository.ts';
import { AuditRepository } from './db/audit-repository.ts';
import { openDatabase } from './db/database.ts';
import { IdempotencyRepository } from './db/idempotency-repository.ts';
import { ImageRepository } from './db/image-repository.ts';
import { ImageSearchRepository } from './db/image-search.ts';
import { OutboxRepository } from './db/outbox-repository.ts';
import { PublicImagesRepository } from './db/public-images-repository.ts';
import { createCoreApp } from './http/app.ts';
import { UPLOADS_PATH } from './http/routes/uploads-tus.ts';
import { uploadOptionsFromTusMetadata } from './http/upload-headers.ts';
import { createIdentity, type Identity } from './identity/mod.ts';
import { MediaRepository } from './media/media-repository.ts';
import { OutboxRelay } from './outbox/outbox-relay.ts';
import { AlbumService } from './services/albums.ts';
import { applyTagsComputed } from './services/apply-tags.ts';
import { AuditLog } from './services/audit-log.ts';
import { IdempotencyService } from './services/idempotency.ts';
import { ImageEditService } from './services/image-edits.ts';
import { ImageQueryService } from './services/image-queries.ts';
import { IngestService } from './services/ingest-image.ts';
import { NearDuplicateService } from './services/near-duplicates.ts';
import { ImageBlobRemover, removeBlobsOfDeletedImage } from './services/remove-image-blobs.ts';
import { ResultsModule } from './services/results/results-module.ts';
import { ResumableUploads } from './services/resumable-uploads.ts';
import { ThumbnailUrls } from './services/thumbnail-urls.ts';

export { type CoreConfig, CoreEnv, parseCoreConfig } from './config.ts';

export interface CoreDeps {
  log: Logger;
  bus: EventBus;
  blobs: BlobStore;
  /** Request/reply to the workers (search's text embeddings); without it search answers 503. */
  rpc?: Rpc;
  /**
   * The key internal images' thumbnail URLs are signed with, as `resolveUrlSigningKey` found
   * it (env or key file); default AEX_URL_SIGNING_KEY.
   */
  urlSigningKey?: Uint8Array;
}

export interface RunningCore {
  /**
   * Core's HTTP API as a fetch handler: serve it, or call it in-process from the edge.
   * `server` is what Bun.serve passes a handler, for the client's address (login limits).
   */
  fetch: (request: Request, server?: unknown) => Response | Promise<Response>;
  /** The built-in identity provider: its issuer (and JWKS) verifies tokens in-process. */
  identity: Identity;
  /** Stops consumers and the relay, then closes the database. */
  stop(): Promise<void>;
}

/** Durable consumer names of core. */
export const CORE_CONSUMERS = { tags: 'core-tags', imageBlobs: 'core-image-blobs' } as const;

/**
 * Starts core on the given bus and blob store: opens and migrates the metadata store,
 * starts the outbox relay and the result consumers, and returns the HTTP API.
 */
export async function startCore(config: CoreConfig, deps: CoreDeps): Promise<RunningCore> {
  const log = deps.log;
  const urlSigningKey = deps.urlSigningKey ?? config.AEX_URL_SIGNING_KEY;
  if (!urlSigningKey) {
    throw new ConfigError([
      'AEX_URL_SIGNING_KEY: must be set for core to sign thumbnail URLs: set the same value as the edge (make one with `openssl rand -hex 32`)',
    ]);
  }
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.AEX_DATA_DIR,
    log,
  });
  const images = new ImageRepository(database.db);
  const identity = await createIdentity({
    db: database.db,
    issuer: config.AEX_PUBLIC_URL,
    audience: config.AEX_OIDC_AUDIENCE,
    admin: { email: config.AEX_ADMIN_EMAIL, password: config.AEX_ADMIN_PASSWORD },
    log: log.child({ component: 'identity' }),
  }).catch(async (err) => {
    await database.close();
    throw err;
  });
  // Results: their repositories, the vector store (or one warning that there is none), search.
  const resultsModule = await ResultsModule.open(config, database, log).catch(async (err) => {
    await identity.close();
    await database.close();
    throw err;
  });
  const relay = new OutboxRelay(
    new OutboxRepository(database.db),
    deps.bus,
    log.child({ component: 'outbox' }),
  );
  const media = new MediaRepository({ maxPixels: config.AEX_MAX_PIXELS });
  const ingest = new IngestService({
    images,
    blobs: deps.blobs,
    media,
    spoolDir: join(config.AEX_DATA_DIR, 'tmp'),
    maxUploadBytes: config.AEX_MAX_UPLOAD_BYTES,
    decodeConcurrency: config.AEX_DECODE_CONCURRENCY,
    log,
    onCommitted: (events) => relay.publishCommitted(events),
  });
  const albumRepository = new AlbumRepository(database.db);
  const queries = new ImageQueryService(
    images,
    new ImageSearchRepository(database.db),
    albumRepository,
    resultsModule.active,
    new ThumbnailUrls({ key: urlSigningKey }),
  );
  const blobRemover = new ImageBlobRemover({ images, blobs: deps.blobs, log });
  const edits = new ImageEditService({
    images,
    queries,
    blobRemover,
    onCommitted: () => relay.nudge(),
  });
  const albums = new AlbumService(albumRepository);
  const duplicates = new NearDuplicateService({
    images,
    queries,
    blobRemover,
    onCommitted: () => relay.nudge(),
  });
  const idempotency = new IdempotencyService(new IdempotencyRepository(database.db), {
    ttlMs: config.AEX_IDEMPOTENCY_TTL,
    log: log.child({ component: 'idempotency' }),
  });
  const uploads = new ResumableUploads({
    path: UPLOADS_PATH,
    dir: join(config.AEX_DATA_DIR, 'uploads'),
    maxUploadBytes: config.AEX_MAX_UPLOAD_BYTES,
    expiryMs: config.AEX_UPLOAD_EXPIRY,
    ingest,
    readMetadata: uploadOptionsFromTusMetadata,
    log: log.child({ component: 'uploads' }),
  });
  const consumers: RunningConsumer[] = [];
  try {
    relay.start();
    idempotency.start();
    await uploads.start();
    consumers.push(
      await runConsumer(
        deps.bus,
        {
          durable: CORE_CONSUMERS.tags,
          subjects: [Subjects.imageTagsComputed],
          log: log.child({ consumer: CORE_CONSUMERS.tags }),
          concurrency: 4,
        },
        async (event) =>
          event.type === Subjects.imageTagsComputed
            ? applyTagsComputed(resultsModule.results, event)
            : {
                status: 'skipped',
                reason: `not a result for ${CORE_CONSUMERS.tags}: ${event.type}`,
              },
      ),
    );
    consumers.push(...(await resultsModule.startConsumers(deps.bus, log)));
    // Deleted images' blobs: removed right after the delete commits, and again here from the
    // outbox's event, so a crash or a blob-store outage in between is retried by the bus.
    consumers.push(
      await runConsumer(
        deps.bus,
        {
          durable: CORE_CONSUMERS.imageBlobs,
          subjects: [Subjects.imageDeleted],
          log: log.child({ consumer: CORE_CONSUMERS.imageBlobs }),
          concurrency: 4,
          // Backoff doubles from 1 s to 60 s: 20 tries ride out ~15 minutes of blob-store
          // outage before the event is dead-lettered (kept, with its sha256, for a replay).
          maxDeliver: 20,
        },
        async (event) =>
          event.type === Subjects.imageDeleted
            ? removeBlobsOfDeletedImage(blobRemover, event)
            : {
                status: 'skipped',
                reason: `not an event for ${CORE_CONSUMERS.imageBlobs}: ${event.type}`,
              },
      ),
    );
  } catch (err) {
    await Promise.all(consumers.map((c) => c.stop()));
    await uploads.stop();
    await idempotency.stop();
    await relay.stop();
    await resultsModule.close();
    await identity.close();
    await database.close();
    throw err;
  }
  const app = createCoreApp({
    log,
    ingest,
    queries,
    edits,
    albums,
    duplicates,
    blobs: deps.blobs,
    maxUploadBytes: config.AEX_MAX_UPLOAD_BYTES,
    idempotency,
    uploads,
    knownImages: images,
    search: resultsModule.search({ images, queries, rpc: deps.rpc }),
    models: resultsModule.models(() => relay.nudge()),
    ready: async () => {
      await images.list({ limit: 1 });
    },
    identity,
    // An external issuer (AEX_OIDC_ISSUER) replaces the built-in one for tokens; the built-in
    // issuer's keys are read in-process, with no HTTP round trip to itself.
    tokens: createTokenVerifier(
      externalIssuerOptions(config) ?? {
        issuer: identity.issuer.issuer,
        audience: identity.issuer.audience,
        keys: () => identity.issuer.jwks(),
        // Re-reading is a read of the issuer's own cache (a query at most every 30 s), so an
        // unknown kid re-reads at once: a key rotated in here is trusted from its first token.
        keyRefreshCooldownMs: 0,
      },
    ),
    audit: new AuditLog(new AuditRepository(database.db)),
    publicImages: new PublicImagesRepository(database.db),
  });
  return {
    fetch: (request, server) => app.fetch(request, server),
    identity,
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await uploads.stop();
      await idempotency.stop();
      await relay.stop();
      await media.close();
      await resultsModule.close();
      await identity.close();
      await database.close();
    },
  };
}
