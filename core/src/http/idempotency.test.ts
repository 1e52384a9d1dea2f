import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ImageList, Problem, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import sharp from 'sharp';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

/** A small PNG; `seed` makes its bytes (and sha256) unique. */
async function png(seed: number): Promise<Uint8Array<ArrayBuffer>> {
  const background = { r: seed % 256, g: (seed * 5) % 256, b: (seed * 11) % 256 };
  return new Uint8Array(
    await sharp({ create: { width: 32, height: 24, channels: 3, background } })
      .png()
      .toBuffer(),
  );
}

/**
 * A body that sends its first half, then waits for `open()` before sending the rest;
 * `reading` resolves once the server has read the first half.
 */
function gatedBody(bytes: Uint8Array<ArrayBuffer>) {
  let open = () => {};
  let started = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const reading = new Promise<void>((r) => {
    started = r;
  });
  let step = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (step === 0) {
        // A stream pulls once to fill its queue before anyone reads: not a sign of reading.
        controller.enqueue(bytes.subarray(0, bytes.length >> 1));
      } else if (step === 1) {
        started();
        await gate;
        controller.enqueue(bytes.subarray(bytes.length >> 1));
      } else controller.close();
      step++;
    },
  });
  return { body, open, reading };
}

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(
      `Idempotency-Key on POST /api/v1/images on ${set.name}`,
      set.available,
      'Postgres or NATS',
    ),
    () => {
      let h: CoreHarness;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
      }, 30_000);
      afterAll(async () => {
        await h?.stop();
      });

      const post = (body: BodyInit | null, key?: string) =>
        h.request('/api/v1/images', {
          method: 'POST',
          body,
          headers: key === undefined ? {} : { 'idempotency-key': key },
        });
      const count = async () =>
        ImageList.parse(await (await h.request('/api/v1/images?limit=200')).json()).items.length;
      const expectProblem = async (res: Response, status: number, code: string, detail: RegExp) => {
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const problem = Problem.parse(await res.json());
        expect(problem.code).toBe(code as Problem['code']);
        expect(problem.detail).toMatch(detail);
      };

      test('a retry with the same key and bytes replays the answer without ingesting again', async () => {
        const bytes = await png(1);
        const events = await h.ingestedEvents();
        const first = await post(bytes, 'retry-1');
        expect(first.status).toBe(201);
        expect(first.headers.get('idempotent-replayed')).toBeNull();
        const body = UploadResult.parse(await first.json());
        const again = await post(bytes, '"retry-1"'); // the draft's sf-string form
        expect(again.status).toBe(201);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.headers.get('location')).toBe(`/api/v1/images/${body.image.id}`);
        expect(UploadResult.parse(await again.json())).toEqual(body);
        // The relay publishes after the commit, asynchronously: wait for the one event, then
        // make sure no second one follows.
        const deadline = Date.now() + 5000;
        while ((await h.ingestedEvents()) < events + 1 && Date.now() < deadline)
          await Bun.sleep(50);
        await Bun.sleep(300);
        expect(await h.ingestedEvents()).toBe(events + 1);
        expect(await h.spoolFiles()).toEqual([]);
        // Without the key the same bytes are an ordinary duplicate: 200, not a replay.
        const plain = await post(bytes);
        expect(plain.status).toBe(200);
        expect(plain.headers.get('idempotent-replayed')).toBeNull();
      });

      test('the same key with other bytes is a 409 conflict; nothing is written', async () => {
        await post(await png(2), 'reused');
        const [keys, images] = [await h.blobKeys(), await count()];
        const res = await post(await png(3), 'reused');
        await expectProblem(res, 409, 'conflict', /different request/);
        expect(await h.blobKeys()).toEqual(keys);
        expect(await count()).toBe(images);
        expect(await h.spoolFiles()).toEqual([]);
      });

      test('a retry while the first is still uploading gets 409 "in progress"; then the replay', async () => {
        const bytes = await png(4);
        const gated = gatedBody(bytes);
        const first = post(gated.body, 'concurrent');
        await gated.reading; // the key is claimed before the body is read
        const during = await post(bytes, 'concurrent');
        await expectProblem(during, 409, 'conflict', /in progress/);
        expect(during.headers.get('retry-after')).toBe('1');
        gated.open();
        const done = await first;
        expect(done.status).toBe(201);
        const { image } = UploadResult.parse(await done.json());
        const after = await post(bytes, 'concurrent');
        expect(after.headers.get('idempotent-replayed')).toBe('true');
        expect(UploadResult.parse(await after.json()).image.id).toBe(image.id);
      });

      test('many concurrent requests with one key: exactly one does the work', async () => {
        const bytes = await png(5);
        const images = await count();
        const results = await Promise.all(Array.from({ length: 6 }, () => post(bytes, 'stampede')));
        const statuses = results.map((r) => r.status).sort();
        expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
        expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
        const fresh = results.filter(
          (r) => r.status === 201 && r.headers.get('idempotent-replayed') === null,
        );
        expect(fresh.length).toBe(1);
        expect(await count()).toBe(images + 1);
      });

      test('a refusal is stored too: the retry gets the same 415, replayed', async () => {
        const junk = crypto.getRandomValues(new Uint8Array(2048));
        await expectProblem(await post(junk, 'junk'), 415, 'unsupported_media_type', /not a known/);
        const again = await post(junk, 'junk');
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        await expectProblem(again, 415, 'unsupported_media_type', /not a known/);
        expect(await h.spoolFiles()).toEqual([]);
      });

      test.each([['k'.repeat(256)], ['ключ'], ['tab\tkey'], ['""']])(
        'a malformed key %j is a 400 before the body is read',
        async (key) => {
          const [keys, images] = [await h.blobKeys(), await count()];
          const res = await h
            .request('/api/v1/images', {
              method: 'POST',
              body: await png(6),
              headers: [['idempotency-key', key]],
            })
            .catch(() => null);
          // Some values cannot even be sent (fetch refuses non-ByteString headers).
          if (res) await expectProblem(res, 400, 'invalid_input', /Idempotency-Key/);
          expect(await h.blobKeys()).toEqual(keys);
          expect(await count()).toBe(images);
        },
      );
    },
  );
}

describe('Idempotency-Key entries expire', () => {
  let h: CoreHarness;
  beforeAll(async () => {
    h = await startCoreHarness('embedded', { AEX_IDEMPOTENCY_TTL: '1500ms' });
  }, 30_000);
  afterAll(async () => {
    await h?.stop();
  });

  test('after AEX_IDEMPOTENCY_TTL the key is free for another request', async () => {
    const post = async (seed: number) =>
      h.request('/api/v1/images', {
        method: 'POST',
        body: await png(seed),
        headers: { 'idempotency-key': 'short-lived' },
      });
    expect((await post(50)).status).toBe(201);
    expect((await post(51)).status).toBe(409);
    await Bun.sleep(1600);
    const later = await post(51);
    expect(later.status).toBe(201);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
  });
});
