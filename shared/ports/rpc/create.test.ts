import { describe, expect, test } from 'bun:test';
import { capturingLogger } from '../../testing/capturing-logger.ts';
import { natsReachable, randomToken, suiteName, TEST_NATS_URL } from '../../testing/servers.ts';
import { createRpc } from './create.ts';

test('without NATS_URL: the in-process adapter, and a log line that says so', async () => {
  const log = capturingLogger();
  const rpc = await createRpc({}, { log });
  expect(rpc.kind).toBe('embedded');
  expect(log.lines[0]?.msg).toContain('in-process');
  await rpc.close();
});

describe.skipIf(!natsReachable)(
  suiteName('createRpc with NATS_URL', natsReachable, TEST_NATS_URL),
  () => {
    test('NATS, with the subject prefix applied both ways', async () => {
      const log = capturingLogger();
      const subjectPrefix = `t${randomToken(8)}`;
      const a = await createRpc({ NATS_URL: TEST_NATS_URL }, { log, subjectPrefix });
      const b = await createRpc({ NATS_URL: TEST_NATS_URL }, { log, subjectPrefix });
      expect(a.kind).toBe('nats');
      const responder = await a.respond('aex.infer.text-embed', async (p) => p.slice().reverse());
      const reply = await b.request('aex.infer.text-embed', Uint8Array.of(1, 2, 3), {
        timeoutMs: 1_000,
      });
      expect([...reply]).toEqual([3, 2, 1]);
      await responder.stop();
      await Promise.all([a.close(), b.close()]);
    });
  },
);
