import { afterAll, describe } from 'bun:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsReachable, randomToken, suiteName, TEST_NATS_URL } from '../../testing/servers.ts';
import { eventBusContract } from './contract.ts';
import type { EventBus } from './event-bus.ts';
import { createNatsEventBus } from './nats.ts';
import { serverAtLeast } from './nats-consumer.ts';

// Every bus gets its own stream and subject prefix: JetStream refuses two streams whose
// subjects overlap, and test runs must not see each other's (or a running AEX's) messages.
const streams = new Set<string>();
const storage = new WeakMap<EventBus, { stream: string; subjectPrefix: string }>();

async function open(stream: string, subjectPrefix: string): Promise<EventBus> {
  streams.add(stream);
  const bus = await createNatsEventBus({ servers: TEST_NATS_URL, stream, subjectPrefix });
  storage.set(bus, { stream, subjectPrefix });
  return bus;
}

/** Whether the server supports several filter subjects per consumer (nats-server 2.10). */
async function serverHasMultipleFilters(): Promise<boolean> {
  if (!natsReachable) return true;
  const nc = await connect({ servers: TEST_NATS_URL });
  const ok = serverAtLeast(nc, '2.10.0');
  await nc.close();
  return ok;
}
const multipleFilters = await serverHasMultipleFilters();

afterAll(async () => {
  if (!natsReachable || streams.size === 0) return;
  const nc = await connect({ servers: TEST_NATS_URL });
  const jsm = await jetstreamManager(nc);
  await Promise.all([...streams].map((s) => jsm.streams.delete(s).catch(() => false)));
  await nc.close();
});

describe.skipIf(!natsReachable)(
  suiteName('NATS JetStream event bus', natsReachable, TEST_NATS_URL),
  () => {
    eventBusContract(
      multipleFilters
        ? 'contract'
        : 'contract (several filter subjects skipped: nats-server < 2.10)',
      () => open(`AEXTEST_${randomToken(8).toUpperCase()}`, `t${randomToken(8)}`),
      {
        async reopen(bus) {
          const at = storage.get(bus);
          if (!at) throw new Error('not a bus of this suite');
          return open(at.stream, at.subjectPrefix);
        },
        multipleFilters,
      },
    );
  },
);
