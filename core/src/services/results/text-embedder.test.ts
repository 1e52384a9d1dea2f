import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { AexError, RequestSubjects, type TextEmbedReply, TextEmbedRequest } from '@aex/shared';
import { silentLogger } from '@aex/shared/ports/log';
import { createRpc } from '@aex/shared/ports/rpc/create';
import type { Rpc } from '@aex/shared/ports/rpc/rpc';
import { natsReachable, randomToken, suiteName, TEST_NATS_URL } from '@aex/shared/testing/servers';
import { normaliseQuery, TextEmbedder } from './text-embedder.ts';

// The text embedder against both request/reply adapters: in-process, and NATS (two
// connections, as core and a worker on different machines would have).
const ADAPTERS = [
  { name: 'in-process', available: true, nats: false },
  { name: 'NATS', available: natsReachable, nats: true },
];
const MODEL = { id: 'clip-test', version: '1' };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Why `p` was refused, as the API would show it. */
async function refusal(
  p: Promise<unknown>,
): Promise<{ code: string; detail: string; retryAfter?: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AexError)) throw new Error(`expected an AexError, got ${String(err)}`);
  return { code: err.code, detail: err.detail, retryAfter: err.headers['retry-after'] };
}

test('queries are normalised as CLIP would read them anyway', () => {
  expect(normaliseQuery('  Red\tCAR \n')).toBe('red car');
  expect(normaliseQuery('Cafe\u0301')).toBe('café');
});

test('without a request/reply port every query is 503', async () => {
  expect(await refusal(new TextEmbedder(undefined).embed('cat', MODEL))).toMatchObject({
    code: 'unavailable',
    retryAfter: '5',
  });
});

for (const adapter of ADAPTERS) {
  describe.skipIf(!adapter.available)(
    suiteName(`text embedder over ${adapter.name} request/reply`, adapter.available, TEST_NATS_URL),
    () => {
      let core: Rpc;
      let worker: Rpc;
      const asked: string[] = [];
      beforeAll(async () => {
        const config = adapter.nats ? { NATS_URL: TEST_NATS_URL } : {};
        const subjectPrefix = `t${randomToken(8)}`;
        core = await createRpc(config, { log: silentLogger(), subjectPrefix });
        worker = adapter.nats
          ? await createRpc(config, { log: silentLogger(), subjectPrefix })
          : core;
        await worker.respond(
          RequestSubjects.textEmbed,
          async (payload) => {
            const request = TextEmbedRequest.parse(JSON.parse(decoder.decode(payload)));
            asked.push(request.text);
            if (request.text === 'slow') await Bun.sleep(800);
            await Bun.sleep(20);
            const reply: TextEmbedReply =
              request.text === 'broken'
                ? { ok: false, error: 'tokenizer exploded' }
                : {
                    ok: true,
                    model:
                      request.text === 'legacy'
                        ? { ...MODEL, version: 'old' }
                        : (request.model ?? MODEL),
                    vector: [request.text.length, 1],
                  };
            return encoder.encode(JSON.stringify(reply));
          },
          { queue: 'clip' },
        );
      });
      afterAll(async () => {
        await core?.close();
        if (worker !== core) await worker?.close();
      });

      test('an answer is cached by model and normalised text; concurrent asks share one request', async () => {
        const embedder = new TextEmbedder(core, { timeoutMs: 2000, cacheSize: 2 });
        const start = asked.length;
        const [a, b] = await Promise.all([
          embedder.embed('A dog', MODEL),
          embedder.embed(' a  DOG', MODEL),
        ]);
        expect(Array.from(a)).toEqual([5, 1]);
        expect(b).toBe(a);
        expect(asked.slice(start)).toEqual(['a dog']);
        await embedder.embed('a dog', { ...MODEL, version: '2' });
        expect(asked.slice(start)).toEqual(['a dog', 'a dog']);
        // Capacity 2: a third entry evicts the least recently used ('a dog' of version 1).
        await embedder.embed('cat', MODEL);
        await embedder.embed('a dog', { ...MODEL, version: '2' });
        await embedder.embed('a dog', MODEL);
        expect(asked.slice(start)).toEqual(['a dog', 'a dog', 'cat', 'a dog']);
      });

      test('a slow worker is a 503 with Retry-After within the timeout', async () => {
        const embedder = new TextEmbedder(core, { timeoutMs: 200, retryAfterSeconds: 7 });
        const started = performance.now();
        expect(await refusal(embedder.embed('slow', MODEL))).toEqual({
          code: 'unavailable',
          detail: expect.stringContaining('no worker answered within 200 ms'),
          retryAfter: '7',
        });
        expect(performance.now() - started).toBeLessThan(700);
      });

      test("a worker's refusal or another model's vector is a 503, and not cached", async () => {
        const embedder = new TextEmbedder(core);
        expect(await refusal(embedder.embed('broken', MODEL))).toMatchObject({
          detail: expect.stringContaining('tokenizer exploded'),
        });
        expect(await refusal(embedder.embed('legacy', MODEL))).toMatchObject({
          detail: expect.stringContaining('the workers run clip-test@old'),
        });
        const start = asked.length;
        await refusal(embedder.embed('broken', MODEL));
        await refusal(embedder.embed('legacy', MODEL));
        expect(asked.slice(start)).toEqual(['broken', 'legacy']);
      });

      test('nobody listening is a 503 that says to start a worker', async () => {
        const embedder = new TextEmbedder(core);
        const lonely = await createRpc(adapter.nats ? { NATS_URL: TEST_NATS_URL } : {}, {
          log: silentLogger(),
          subjectPrefix: `t${randomToken(8)}`,
        });
        try {
          expect(await refusal(new TextEmbedder(lonely).embed('cat', MODEL))).toMatchObject({
            detail: expect.stringContaining('no worker runs the CLIP text model'),
          });
        } finally {
          await lonely.close();
        }
        expect(Array.from(await embedder.embed('cat', MODEL))).toEqual([3, 1]);
      });
    },
  );
}
