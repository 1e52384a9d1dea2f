import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import type { EventBus } from './event-bus.ts';

export interface EventBusConfig {
  /** Set: NATS JetStream at this URL. Unset: the embedded bus in `dataDir`. */
  NATS_URL?: string;
  NATS_STREAM: string;
}

/**
 * The event bus chosen by configuration: NATS JetStream when `NATS_URL` is set, else the
 * embedded durable bus at `<dataDir>/bus.sqlite`. Adapters are imported on demand, so a
 * runtime without `bun:sqlite` can still use NATS.
 */
export async function createEventBus(
  config: EventBusConfig,
  opts: { dataDir: string; log: Logger; subjectPrefix?: string },
): Promise<EventBus> {
  if (config.NATS_URL) {
    const { createNatsEventBus } = await import('./nats.ts');
    const bus = await createNatsEventBus({
      servers: config.NATS_URL,
      stream: config.NATS_STREAM,
      subjectPrefix: opts.subjectPrefix,
      log: opts.log,
    });
    opts.log.info(
      { nats: config.NATS_URL, stream: config.NATS_STREAM },
      'event bus: NATS JetStream',
    );
    return bus;
  }
  const { createEmbeddedEventBus } = await import('./embedded.ts');
  await mkdir(opts.dataDir, { recursive: true });
  const path = join(opts.dataDir, 'bus.sqlite');
  const bus = createEmbeddedEventBus({ path, subjectPrefix: opts.subjectPrefix, log: opts.log });
  opts.log.info({ path }, 'event bus: embedded');
  return bus;
}
