import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { connect } from '@nats-io/transport-node';
import { capturingLogger } from '../../testing/capturing-logger.ts';
import {
  NATS_SERVER_BIN,
  type NatsTestServer,
  startNatsTestServer,
} from '../../testing/nats-server.ts';
import { subscribeLiveEvents } from './nats-ws-live.ts';

const it = NATS_SERVER_BIN ? test : test.skip;
const title = (name: string) =>
  NATS_SERVER_BIN ? name : `${name} (skipped: nats-server not on the PATH)`;

describe('live events over NATS WebSocket', () => {
  let nats: NatsTestServer;
  beforeAll(async () => {
    if (NATS_SERVER_BIN) nats = await startNatsTestServer();
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  const publish = async (subject: string, text: string) => {
    const nc = await connect({ servers: nats.url });
    nc.publish(subject, new TextEncoder().encode(text));
    await nc.flush();
    await nc.close();
  };

  it(
    title('a server down at start is retried until it is up; subjects map to the prefix'),
    async () => {
      await nats.stop();
      const log = capturingLogger();
      const got: Array<[string, string]> = [];
      const live = subscribeLiveEvents({
        servers: nats.wsUrl,
        subjects: ['aex.image.deleted'],
        subjectPrefix: 'zz1',
        log,
        minBackoffMs: 50,
        onMessage: (subject, data) => {
          got.push([subject, new TextDecoder().decode(data)]);
        },
      });
      try {
        await Bun.sleep(300);
        expect(live.connected()).toBe(false);
        expect(log.lines.some((l) => l.fields.event === 'connect-failed')).toBe(true);
        await nats.start();
        await live.ready();
        expect(live.connected()).toBe(true);
        await publish('zz1.image.deleted', 'one');
        await publish('aex.image.deleted', 'other prefix: not ours');
        await publish('zz1.image.ingested', 'not subscribed');
        const deadline = Date.now() + 2000;
        while (got.length < 1 && Date.now() < deadline) await Bun.sleep(10);
        await Bun.sleep(100);
        expect(got).toEqual([['aex.image.deleted', 'one']]);
      } finally {
        await live.close();
      }
      expect(live.connected()).toBe(false);
    },
  );

  it(title('a failing handler is logged and the next message still arrives'), async () => {
    const log = capturingLogger();
    const got: string[] = [];
    const live = subscribeLiveEvents({
      servers: nats.wsUrl,
      subjects: ['aex.image.>'],
      subjectPrefix: 'zz2',
      log,
      onMessage: (_subject, data) => {
        const text = new TextDecoder().decode(data);
        if (text === 'boom') throw new Error('handler exploded');
        got.push(text);
      },
    });
    try {
      await live.ready();
      await publish('zz2.image.deleted', 'boom');
      await publish('zz2.image.deleted', 'fine');
      const deadline = Date.now() + 2000;
      while (got.length < 1 && Date.now() < deadline) await Bun.sleep(10);
      expect(got).toEqual(['fine']);
      expect(log.lines.some((l) => l.msg === 'live event handler failed')).toBe(true);
    } finally {
      await live.close();
    }
  });

  it(title('close stops the retrying at once when the server never comes'), async () => {
    const log = capturingLogger();
    const live = subscribeLiveEvents({
      servers: 'ws://127.0.0.1:9', // discard port: nothing listens
      subjects: ['aex.image.deleted'],
      log,
      minBackoffMs: 20,
      onMessage: () => {},
    });
    await Bun.sleep(200);
    const started = performance.now();
    await live.close();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
