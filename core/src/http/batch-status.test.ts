import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { BatchStatusResponse, Problem, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import sharp from 'sharp';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function png(seed: number): Promise<Uint8Array<ArrayBuffer>> {
  const background = { r: seed, g: 255 - seed, b: 99 };
  return new Uint8Array(
    await sharp({ create: { width: 20, height: 20, channels: 3, background } })
      .png()
      .toBuffer(),
  );
}

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`POST /api/v1/images/batch-status on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      const stored: Array<{ sha256: string; id: string }> = [];
      beforeAll(async () => {
        h = await startCoreHarness(set.kind);
        for (const seed of [10, 20]) {
          const res = await h.request('/api/v1/images', { method: 'POST', body: await png(seed) });
          const { image } = UploadResult.parse(await res.json());
          stored.push({ sha256: image.sha256, id: image.id });
        }
      }, 30_000);
      afterAll(async () => {
        await h?.stop();
      });

      const ask = (body: unknown, headers: Record<string, string> = {}) =>
        h.request('/api/v1/images/batch-status', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });

      test('answers in request order, each duplicate each time', async () => {
        const [a, b] = stored as [{ sha256: string; id: string }, { sha256: string; id: string }];
        const missing = sha('not stored');
        const res = await ask({ sha256: [b.sha256, missing, a.sha256, b.sha256, missing] });
        expect(res.status).toBe(200);
        expect(BatchStatusResponse.parse(await res.json()).results).toEqual([
          { sha256: b.sha256, imageId: b.id },
          { sha256: missing, imageId: null },
          { sha256: a.sha256, imageId: a.id },
          { sha256: b.sha256, imageId: b.id },
          { sha256: missing, imageId: null },
        ]);
      });

      test('1000 sums, the most allowed, in one request', async () => {
        const sums = Array.from({ length: 1000 }, (_, i) => sha(`n${i}`));
        sums[500] = (stored[0] as { sha256: string }).sha256;
        const res = await ask({ sha256: sums });
        expect(res.status).toBe(200);
        const { results } = BatchStatusResponse.parse(await res.json());
        expect(results.map((r) => r.sha256)).toEqual(sums);
        expect(results.filter((r) => r.imageId !== null).map((r) => r.imageId)).toEqual([
          (stored[0] as { id: string }).id,
        ]);
      });

      test.each([
        ['an empty list', { sha256: [] }],
        ['1001 sums', { sha256: Array.from({ length: 1001 }, (_, i) => sha(`m${i}`)) }],
        ['an uppercase sum', { sha256: [sha('x').toUpperCase()] }],
        ['a short sum', { sha256: ['abc'] }],
        ['an injection attempt', { sha256: ["' or 1=1 --"] }],
        ['a string instead of a list', { sha256: sha('x') }],
        ['no sha256 field', { sums: [sha('x')] }],
        ['malformed JSON', '{"sha256": ['],
        ['null', 'null'],
      ])('%s is a 400 problem', async (_name, body) => {
        const res = await ask(body);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(Problem.parse(await res.json()).code).toBe('invalid_input');
      });

      test('a body over 1 MiB is a 413 problem', async () => {
        const res = await ask({ sha256: [sha('x')], pad: 'x'.repeat(1024 * 1024) });
        expect(res.status).toBe(413);
        expect(Problem.parse(await res.json()).code).toBe('payload_too_large');
      });
    },
  );
}
