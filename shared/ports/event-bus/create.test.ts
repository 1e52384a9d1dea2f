import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsReachable, randomToken, suiteName, TEST_NATS_URL } from '../../testing/servers.ts';
import { silentLogger } from '../log.ts';
import { createEventBus } from './create.ts';
import { EventBusError } from './event-bus.ts';

const dir = mkdtempSync(join(tmpdir(), 'aex-bus-create-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = silentLogger();

describe('createEventBus', () => {
  test('without NATS_URL: the embedded bus in <dataDir>/bus.sqlite, creating the folder', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const bus = await createEventBus({ NATS_STREAM: 'AEX' }, { dataDir, log });
    expect(bus.kind).toBe('embedded');
    expect(existsSync(join(dataDir, 'bus.sqlite'))).toBe(true);
    await bus.close();
  });

  test('an unreachable NATS_URL says so and how to fall back to the embedded bus', async () => {
    const config = { NATS_URL: 'nats://127.0.0.1:1', NATS_STREAM: 'AEX' };
    const attempt = createEventBus(config, { dataDir: dir, log });
    await expect(attempt).rejects.toBeInstanceOf(EventBusError);
    await expect(attempt).rejects.toThrow(
      /NATS at nats:\/\/127\.0\.0\.1:1 is not reachable: .* unset NATS_URL to use the embedded bus/,
    );
  });

  const natsServer = Bun.which('nats-server');
  test.skipIf(!natsServer)('a NATS server without JetStream is refused clearly', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const server = Bun.spawn([natsServer as string, '-a', '127.0.0.1', '-p', String(port)], {
      stdout: 'ignore',
      stderr: 'ignore',
    });
    try {
      const url = `nats://127.0.0.1:${port}`;
      const deadline = Date.now() + 5_000;
      let error: unknown;
      while (Date.now() < deadline) {
        error = await createEventBus({ NATS_URL: url, NATS_STREAM: 'AEX' }, { dataDir: dir, log })
          .then((bus) => bus.close())
          .catch((err: unknown) => err);
        if (!(error instanceof Error && /not reachable/.test(error.message))) break;
        await Bun.sleep(50); // the server is still starting
      }
      expect(error).toBeInstanceOf(EventBusError);
      expect((error as Error).message).toMatch(
        /has no usable JetStream: .*start nats-server with -js/,
      );
    } finally {
      server.kill();
      await server.exited;
    }
  });
});

describe.skipIf(!natsReachable)(
  suiteName('createEventBus with NATS_URL', natsReachable, TEST_NATS_URL),
  () => {
    test('connects to NATS and creates the stream', async () => {
      const stream = `AEXTEST_${randomToken(8).toUpperCase()}`;
      const bus = await createEventBus(
        { NATS_URL: TEST_NATS_URL, NATS_STREAM: stream },
        { dataDir: dir, log, subjectPrefix: `t${randomToken(8)}` },
      );
      try {
        expect(bus.kind).toBe('nats');
        await bus.publish('aex.image.deleted', new TextEncoder().encode('x'), { msgId: 'x' });
      } finally {
        await bus.close();
        const nc = await connect({ servers: TEST_NATS_URL });
        const jsm = await jetstreamManager(nc);
        expect((await jsm.streams.info(stream)).state.messages).toBe(1);
        await jsm.streams.delete(stream);
        await nc.close();
      }
    });
  },
);
