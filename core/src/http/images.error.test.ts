import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ImageList, Problem, UploadResult } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import sharp from 'sharp';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const LIMIT = 4 * 1024 * 1024; // above corrupted.jpg (1.9 MB), so that file reaches the decoder

async function pngBomb(): Promise<Buffer> {
  // A valid 1×1 PNG whose header is rewritten to claim 50,000 × 50,000 pixels.
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
    .png()
    .toBuffer();
  png.writeUInt32BE(50_000, 16);
  png.writeUInt32BE(50_000, 20);
  return png;
}

/** A body streamed in chunks with no Content-Length (chunked), `total` bytes long. */
function chunked(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(64 * 1024, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(7));
    },
  });
}

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`bad uploads on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let eventsBefore = 0;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind, {
          AEX_MAX_UPLOAD_BYTES: String(LIMIT),
          AEX_MAX_PIXELS: '100000000',
        });
        eventsBefore = await h.ingestedEvents();
      });
      afterAll(async () => {
        await h?.stop();
      });

      async function expectRejected(
        body: BodyInit | null,
        status: number,
        code: string,
        detail: RegExp,
      ) {
        const res = await h.request('/api/v1/images', {
          method: 'POST',
          body,
          headers: { 'content-type': 'image/jpeg' },
        });
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const problem = Problem.parse(await res.json());
        expect(problem.code).toBe(code as Problem['code']);
        expect(problem.detail).toMatch(detail);
        expect(problem.requestId.length).toBeGreaterThan(0);
        // Nothing half-written stays behind.
        expect(await h.blobKeys()).toEqual([]);
        expect(await h.spoolFiles()).toEqual([]);
        const list = ImageList.parse(await (await h.request('/api/v1/images')).json());
        expect(list.items).toEqual([]);
      }

      const fixture = async (p: string) => new Uint8Array(await readFile(join(FIXTURES, p)));

      test('an empty body', () => expectRejected(new Uint8Array(0), 400, 'invalid_input', /empty/));
      test('no body at all', () => expectRejected(null, 400, 'invalid_input', /empty/));
      test('bytes that are not an image', () =>
        expectRejected(
          crypto.getRandomValues(new Uint8Array(4096)),
          415,
          'unsupported_media_type',
          /not a known image format/,
        ));
      test('a PDF', async () =>
        expectRejected(
          '%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n',
          415,
          'unsupported_media_type',
          /application\/pdf/,
        ));
      test('an SVG (script-capable, refused)', () =>
        expectRejected(
          '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
          415,
          'unsupported_media_type',
          /image\/svg\+xml/,
        ));
      test('a video names its type', () =>
        expectRejected(
          // An MP4 file's first box: ftyp isom.
          new Uint8Array(Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex')),
          415,
          'unsupported_media_type',
          /video\/mp4/,
        ));
      test('the corrupt camera JPEG', async () =>
        expectRejected(
          await fixture('exif-samples/jpg/corrupted.jpg'),
          400,
          'invalid_input',
          /could not be decoded/,
        ));
      test('a truncated JPEG', async () => {
        const jpeg = await fixture('exif-samples/jpg/Canon_40D.jpg');
        await expectRejected(
          jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
          400,
          'invalid_input',
          /could not be decoded/,
        );
      });
      test('a truncated PNG', async () => {
        const png = await fixture('objects/tench_n01440764.png');
        await expectRejected(
          png.subarray(0, Math.floor(png.length / 2)),
          400,
          'invalid_input',
          /could not be decoded/,
        );
      });
      test('a decompression bomb (50,000 × 50,000 PNG header)', async () =>
        expectRejected(
          new Uint8Array(await pngBomb()),
          413,
          'payload_too_large',
          /AEX_MAX_PIXELS/,
        ));
      test('a body over the size limit, declared by Content-Length', () =>
        expectRejected(
          new Uint8Array(LIMIT + 1),
          413,
          'payload_too_large',
          /AEX_MAX_UPLOAD_BYTES/,
        ));
      test('a chunked body that grows past the limit', () =>
        expectRejected(chunked(LIMIT * 3), 413, 'payload_too_large', /AEX_MAX_UPLOAD_BYTES/));

      test('GET with a malformed id, an unknown id, a forged cursor, bad limits', async () => {
        const cases: Array<[string, number, string]> = [
          ['/api/v1/images/not-a-uuid', 400, 'invalid_input'],
          ['/api/v1/images/0192f0c4-8b7a-7cc2-9d4e-0a0b0c0d0e0f', 404, 'not_found'],
          ['/api/v1/images?cursor=eyJ2IjoxLCJpZCI6IicgT1IgMT0xIn0', 400, 'invalid_input'],
          ['/api/v1/images?cursor=%%%', 400, 'invalid_input'],
          ['/api/v1/images?limit=0', 400, 'invalid_input'],
          ['/api/v1/images?limit=100000', 400, 'invalid_input'],
          ['/api/v1/images?limit=ten', 400, 'invalid_input'],
          ['/api/v1/nothing-here', 404, 'not_found'],
        ];
        for (const [path, status, code] of cases) {
          const res = await h.request(path);
          expect({ path, status: res.status }).toEqual({ path, status });
          expect(Problem.parse(await res.json()).code).toBe(code as Problem['code']);
        }
      });

      test('photos with malformed metadata but sound pixels are kept, not lost', async () => {
        const dir = join(FIXTURES, 'exif-samples/jpg/invalid');
        for (const name of (await readdir(dir)).filter((f) => f.endsWith('.jpg'))) {
          const res = await h.request('/api/v1/images', {
            method: 'POST',
            body: await readFile(join(dir, name)),
          });
          expect({ name, status: res.status }).toEqual({ name, status: 201 });
        }
      });

      test('a hostile file name in Content-Disposition is ignored: storage is by content only', async () => {
        const res = await h.request('/api/v1/images', {
          method: 'POST',
          body: await fixture('objects/cat.jpg'),
          headers: { 'content-disposition': 'attachment; filename="../../etc/passwd"' },
        });
        expect(res.status).toBe(201);
        const { image } = UploadResult.parse(await res.json());
        const keys = (await h.blobKeys()).filter((k) => k.includes(image.sha256));
        expect(keys).toEqual([
          `derived/${image.sha256}/preview.webp`,
          `derived/${image.sha256}/thumb.webp`,
          `originals/${image.sha256.slice(0, 2)}/${image.sha256}`,
        ]);
      });

      test('after all that the server still answers, and only the good uploads made events', async () => {
        expect((await h.request('/healthz')).status).toBe(200);
        const invalid = (await readdir(join(FIXTURES, 'exif-samples/jpg/invalid'))).filter((f) =>
          f.endsWith('.jpg'),
        );
        const expected = eventsBefore + invalid.length + 1;
        const deadline = Date.now() + 10_000;
        while ((await h.ingestedEvents()) < expected && Date.now() < deadline) await Bun.sleep(50);
        // The relay publishes in commit order, so any event of a rejected upload would be here too.
        await Bun.sleep(300);
        expect(await h.ingestedEvents()).toBe(expected);
      });
    },
  );
}
