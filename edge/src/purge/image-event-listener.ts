import { Subjects } from '@aex/shared';
import { type LiveEvents, subscribeLiveEvents } from '@aex/shared/ports/event-bus/nats-ws-live';
import { decodeEvent } from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';
import type { ImagePurges } from './image-purges.ts';

export interface ImageEventListenerOptions {
  /** NATS WebSocket URL (`AEX_NATS_WS_URL`). */
  url: string;
  token?: string;
  /** `NATS_SUBJECT_PREFIX`: the same the publishers use. */
  subjectPrefix: string;
  purges: ImagePurges;
  /** Called on `aex.image.ingested`: bytes uploaded again after a delete may be served again. */
  onIngested?(sha256: string): void;
  log: Logger;
}

/**
 * The edge's ear on the cluster: on `aex.image.deleted` it purges the image from everything
 * it caches, so a deleted image's thumbnail is gone from every edge within moments (the issue
 * asks for 2 s). After a reconnect, deletes may have been missed; `purges.resetAll()` makes
 * every cached answer be asked again.
 */
export function listenForImageEvents(options: ImageEventListenerOptions): LiveEvents {
  const log = options.log.child({ component: 'image-events' });
  return subscribeLiveEvents({
    servers: options.url,
    token: options.token,
    subjectPrefix: options.subjectPrefix,
    subjects: [Subjects.imageDeleted, Subjects.imageIngested],
    name: 'aex-edge',
    log,
    async onMessage(subject, data) {
      const decoded = decodeEvent(subject, data);
      if (!decoded.ok) {
        log.warn({ subject, err: decoded.error }, 'ignored a message that is not an AEX event');
        return;
      }
      const event = decoded.event;
      if (event.type === Subjects.imageDeleted) {
        const started = performance.now();
        await options.purges.purge(event.sha256);
        log.info(
          {
            imageId: event.imageId,
            sha256: event.sha256,
            eventId: event.id,
            // From the event's creation (core's clock) to this edge having purged.
            lagMs: Date.now() - Date.parse(event.occurredAt),
            purgeMs: Math.round((performance.now() - started) * 10) / 10,
          },
          'purged a deleted image',
        );
      } else if (event.type === Subjects.imageIngested) {
        options.onIngested?.(event.sha256);
      }
    },
    async onReconnect() {
      log.warn('deletes may have been missed while disconnected: revalidating cached images');
      await options.purges.resetAll();
    },
  });
}
