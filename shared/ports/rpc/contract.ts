import { afterEach, describe, expect, test } from 'bun:test';
import {
  type Rpc,
  RpcRemoteError,
  type RpcResponder,
  RpcTimeoutError,
  RpcUnavailableError,
} from './rpc.ts';

/** Connections that reach each other: one process's instance, or clients of one NATS prefix. */
export interface RpcNetwork {
  /** A connection on this network (the embedded adapter hands out the same one each time). */
  open(): Promise<Rpc>;
  /** Closes every connection it opened. */
  close(): Promise<void>;
}

const SUBJECT = 'aex.infer.contract';
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const echo = (tag: string) => async (payload: Uint8Array) =>
  encoder.encode(`${tag}:${decoder.decode(payload)}`);

/**
 * The request/reply contract, run on every adapter: a reply within the deadline, named
 * errors for nobody listening, too slow and failed, queue groups sharing the work, and a
 * responder that stops without dropping the request it is answering.
 */
export function rpcContract(name: string, makeNetwork: () => Promise<RpcNetwork>): void {
  describe(name, () => {
    let network: RpcNetwork | undefined;
    const responders: RpcResponder[] = [];
    afterEach(async () => {
      await Promise.all(responders.splice(0).map((r) => r.stop()));
      await network?.close();
      network = undefined;
    });
    const open = async (): Promise<Rpc> => {
      network ??= await makeNetwork();
      return network.open();
    };
    const respond = async (rpc: Rpc, ...args: Parameters<Rpc['respond']>) => {
      const r = await rpc.respond(...args);
      responders.push(r);
      return r;
    };

    test('a request gets its reply, every byte intact', async () => {
      const [server, client] = [await open(), await open()];
      await respond(server, SUBJECT, async (p) => p.slice().reverse());
      const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
      const reply = await client.request(SUBJECT, payload, { timeoutMs: 2_000 });
      expect([...reply]).toEqual([...payload].reverse());
    });

    test('nobody listening rejects with RpcUnavailableError at once', async () => {
      const client = await open();
      const t0 = Date.now();
      const err = await client
        .request('aex.infer.nobody', encoder.encode('?'), { timeoutMs: 3_000 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(RpcUnavailableError);
      expect(Date.now() - t0).toBeLessThan(1_000);
    });

    test('a responder slower than the deadline: RpcTimeoutError after it', async () => {
      const [server, client] = [await open(), await open()];
      await respond(server, SUBJECT, async (p) => {
        await sleep(600);
        return p;
      });
      const t0 = Date.now();
      const err = await client
        .request(SUBJECT, encoder.encode('x'), { timeoutMs: 200 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(RpcTimeoutError);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
      expect(Date.now() - t0).toBeLessThan(550);
    });

    test('a responder that throws: RpcRemoteError with its message', async () => {
      const [server, client] = [await open(), await open()];
      await respond(server, SUBJECT, async () => {
        throw new Error('model not loaded');
      });
      const err = await client
        .request(SUBJECT, encoder.encode('x'), { timeoutMs: 2_000 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(RpcRemoteError);
      expect(err.message).toContain('model not loaded');
    });

    test('a queue group shares the requests: each is answered once, by one member', async () => {
      const [a, b, client] = [await open(), await open(), await open()];
      const answered = { a: 0, b: 0 };
      await respond(
        a,
        SUBJECT,
        async (p) => {
          answered.a++;
          return echo('a')(p);
        },
        { queue: 'q' },
      );
      await respond(
        b,
        SUBJECT,
        async (p) => {
          answered.b++;
          return echo('b')(p);
        },
        { queue: 'q' },
      );
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          client.request(SUBJECT, encoder.encode(`${i}`), { timeoutMs: 2_000 }),
        ),
      );
      expect(replies.map((r) => decoder.decode(r).split(':')[1])).toEqual(
        Array.from({ length: 40 }, (_, i) => `${i}`),
      );
      await sleep(100); // a second answer to any request would have been counted by now
      expect(answered.a + answered.b).toBe(40);
      expect(answered.a).toBeGreaterThan(0);
      expect(answered.b).toBeGreaterThan(0);
    });

    test('requests are answered concurrently', async () => {
      const [server, client] = [await open(), await open()];
      await respond(server, SUBJECT, async (p) => {
        await sleep(200);
        return p;
      });
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: 5 }, () =>
          client.request(SUBJECT, encoder.encode('x'), { timeoutMs: 2_000 }),
        ),
      );
      expect(Date.now() - t0).toBeLessThan(700);
    });

    test('subjects do not cross', async () => {
      const [server, client] = [await open(), await open()];
      await respond(server, 'aex.infer.one', echo('one'));
      await respond(server, 'aex.infer.two', echo('two'));
      const reply = await client.request('aex.infer.two', encoder.encode('x'), {
        timeoutMs: 2_000,
      });
      expect(decoder.decode(reply)).toBe('two:x');
    });

    test('stop() finishes the answer in progress, then takes no more requests', async () => {
      const [server, client] = [await open(), await open()];
      let started = 0;
      const responder = await server.respond(SUBJECT, async (p) => {
        started++;
        await sleep(300);
        return p;
      });
      const pending = client.request(SUBJECT, encoder.encode('late'), { timeoutMs: 2_000 });
      while (started === 0) await sleep(10);
      await responder.stop();
      expect(decoder.decode(await pending)).toBe('late');
      const err = await client
        .request(SUBJECT, encoder.encode('x'), { timeoutMs: 1_000 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(RpcUnavailableError);
    });

    test('subjects the event stream stores, or outside aex., are refused', async () => {
      const rpc = await open();
      await expect(
        rpc.request('aex.image.ingested', new Uint8Array(1), { timeoutMs: 100 }),
      ).rejects.toThrow(/stored by the event stream/);
      await expect(rpc.respond('other.subject', echo('x'))).rejects.toThrow(
        /not a request subject/,
      );
    });
  });
}
