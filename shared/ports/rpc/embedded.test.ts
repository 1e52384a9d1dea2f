import { expect, test } from 'bun:test';
import { rpcContract } from './contract.ts';
import { createEmbeddedRpc } from './embedded.ts';
import { RpcUnavailableError } from './rpc.ts';

// One process, one instance: every "connection" of the network is the same object.
rpcContract('embedded request/reply (contract)', async () => {
  const rpc = createEmbeddedRpc();
  return { open: async () => rpc, close: () => rpc.close() };
});

const encoder = new TextEncoder();

test('a queue group takes turns; plain responders all hear a request, the first answer wins', async () => {
  const rpc = createEmbeddedRpc();
  const heard: string[] = [];
  for (const name of ['a', 'b']) {
    await rpc.respond(
      'aex.infer.x',
      async (p) => {
        heard.push(name);
        return p;
      },
      { queue: 'q' },
    );
  }
  await rpc.respond('aex.infer.x', async (p) => {
    heard.push('plain');
    await new Promise((r) => setTimeout(r, 50));
    return p;
  });
  for (let i = 0; i < 4; i++)
    await rpc.request('aex.infer.x', encoder.encode('?'), { timeoutMs: 500 });
  expect(heard.filter((h) => h !== 'plain')).toEqual(['a', 'b', 'a', 'b']);
  expect(heard.filter((h) => h === 'plain')).toHaveLength(4);
  await rpc.close();
});

test('after close, requests and new responders are refused as unavailable', async () => {
  const rpc = createEmbeddedRpc();
  await rpc.respond('aex.infer.x', async (p) => p);
  await rpc.close();
  await expect(
    rpc.request('aex.infer.x', new Uint8Array(1), { timeoutMs: 100 }),
  ).rejects.toBeInstanceOf(RpcUnavailableError);
  await expect(rpc.respond('aex.infer.x', async (p) => p)).rejects.toBeInstanceOf(
    RpcUnavailableError,
  );
});
