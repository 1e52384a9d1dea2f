import { join } from 'node:path';
import { Subjects } from '@aex/shared';
import type { BlobStore } from '@aex/shared/ports/blob-store/blob-store';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { type RunningConsumer, runConsumer } from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';
import type { CoreConfig } from './config.ts';
import { openDatabase } from './db/database.ts';
import { ImageRepository } from './db/image-repository.ts';
import { OutboxRepository } from './db/outbox-repository.ts';
import { createCoreApp } from './http/app.ts';
import { MediaRepository } from './media/media-repository.ts';
import { OutboxRelay } from './outbox/outbox-relay.ts';
import { applyTagsComputed } from './services/apply-tags.ts';
import { ImageQueryService } from './services/image-queries.ts';
import { IngestService } from './services/ingest-image.ts';

export { type CoreConfig, CoreEnv, parseCoreConfig } from './config.ts';

export interface CoreDeps {
  log: Logger;
  bus: EventBus;
  blobs: BlobStore;
}

export interface RunningCore {
  /** Core's HTTP API as a fetch handler: serve it, or call it in-process from the edge. */
  fetch: (request: Request) => Response | Promise<Response>;
  /** Stops consumers and the relay, then closes the database. */
  stop(): Promise<void>;
}

/** Durable consumer names of core. */
export const CORE_CONSUMERS = { tags: 'core-tags' } as const;

/**
 * Starts core on the given bus and blob store: opens and migrates the metadata store,
 * starts the outbox relay and the result consumers, and returns the HTTP API.
 */
export async function startCore(config: CoreConfig, deps: CoreDeps): Promise<RunningCore> {
  const log = deps.log;
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.AEX_DATA_DIR,
    log,
  });
  const images = new ImageRepository(database.db);
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
    onCommitted: () => relay.nudge(),
  });
  const queries = new ImageQueryService(images);
  const consumers: RunningConsumer[] = [];
  try {
    relay.start();
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
            ? applyTagsComputed(images, event)
            : {
                status: 'skipped',
                reason: `not a result for ${CORE_CONSUMERS.tags}: ${event.type}`,
              },
      ),
    );
  } catch (err) {
    await relay.stop();
    await database.close();
    throw err;
  }
  const app = createCoreApp({
    log,
    ingest,
    queries,
    maxUploadBytes: config.AEX_MAX_UPLOAD_BYTES,
    ready: async () => {
      await images.list({ limit: 1 });
    },
  });
  return {
    fetch: (request) => app.fetch(request),
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await relay.stop();
      await media.close();
      await database.close();
    },
  };
}
