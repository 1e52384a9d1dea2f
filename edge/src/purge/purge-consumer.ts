import { Subjects } from '@aex/shared';
import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import { type RunningConsumer, runConsumer } from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';

/** The durable of the all-in-one process's edge on `aex.image.deleted`. */
export const EDGE_PURGE_CONSUMER = 'edge-cache-purge';

/**
 * The edge's purge for the all-in-one process, which has the event bus at hand (embedded or
 * JetStream) and no WebSocket listener: a durable consumer, so a delete that happened while
 * the process was down is still purged when it comes back. Edges run alone use
 * `listenForImageEvents` instead (one durable per ephemeral edge would pile up on NATS).
 */
export function runEdgePurgeConsumer(
  bus: EventBus,
  edge: { purge(sha256: string): Promise<void> },
  log: Logger,
): Promise<RunningConsumer> {
  return runConsumer(
    bus,
    {
      durable: EDGE_PURGE_CONSUMER,
      subjects: [Subjects.imageDeleted],
      log: log.child({ consumer: EDGE_PURGE_CONSUMER }),
      concurrency: 4,
    },
    async (event) => {
      if (event.type !== Subjects.imageDeleted) {
        return { status: 'skipped', reason: `not a delete: ${event.type}` };
      }
      await edge.purge(event.sha256);
      return { status: 'success' };
    },
  );
}
