import { describe, expect, test } from 'bun:test';
import { natsReachable, randomToken, suiteName, TEST_NATS_URL } from '../../testing/servers.ts';
import { rpcContract } from './contract.ts';
import { createNatsRpc } from './nats.ts';
import type { Rpc } from './rpc.ts';
import { RpcUnavailableError } from './rpc.ts';

describe.skipIf(!natsReachable)(
  suiteName('NATS request/reply', natsReachable, TEST_NATS_URL),
  () => {
    // Each test gets its own subject prefix, so runs sharing the server never answer each other.
    rpcContract('contract', async () => {
      const subjectPrefix = `t${randomToken(8)}`;
      const opened: Rpc[] = [];
      return {
        async open() {
          const rpc = await createNatsRpc({ servers: TEST_NATS_URL, subjectPrefix });
          opened.push(rpc);
          return rpc;
        },
        async close() {
          await Promise.all(opened.splice(0).map((r) => r.close()));
        },
      };
    });

    test('another subject prefix is another installation: its responders are not ours', async () => {
      const mine = await createNatsRpc({
        servers: TEST_NATS_URL,
        subjectPrefix: `t${randomToken(8)}`,
      });
      const theirs = await createNatsRpc({
        servers: TEST_NATS_URL,
        subjectPrefix: `t${randomToken(8)}`,
      });
      const responder = await theirs.respond('aex.infer.text-embed', async (p) => p);
      const err = await mine
        .request('aex.infer.text-embed', new Uint8Array(1), { timeoutMs: 1_000 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(RpcUnavailableError);
      await responder.stop();
      await Promise.all([mine.close(), theirs.close()]);
    });
  },
);

test('an unreachable server is RpcUnavailableError naming it', async () => {
  const err = await createNatsRpc({ servers: 'nats://127.0.0.1:1' }).catch((e) => e);
  expect(err).toBeInstanceOf(RpcUnavailableError);
  expect(err.message).toContain('127.0.0.1:1');
});
