import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ImageList, Problem } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';
import {
  createUpload,
  headUpload,
  noisePng,
  patchUpload,
  serveCore,
  TUS,
  tusMetadata,
  uploadFiles,
} from './routes/uploads-testing.ts';

const LIMIT = 2 * 1024 * 1024;
const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');

async function expectProblem(res: Response, status: number, code: string, detail?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('tus-resumable')).toBe('1.0.0');
  const problem = Problem.parse(await res.json());
  expect(problem.code).toBe(code as Problem['code']);
  if (detail) expect(problem.detail).toMatch(detail);
}

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`bad resumable uploads on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let server: { url: string; stop(): Promise<void> };
      beforeAll(async () => {
        h = await startCoreHarness(set.kind, { AEX_MAX_UPLOAD_BYTES: String(LIMIT) });
        server = serveCore(h);
      }, 30_000);
      afterAll(async () => {
        await server?.stop();
        await h?.stop();
      });

      /** Nothing half-written: no upload files, no spool files, no blobs, no images. */
      async function expectNothingLeft() {
        expect(await uploadFiles(h)).toEqual([]);
        expect(await h.spoolFiles()).toEqual([]);
        expect(await h.blobKeys()).toEqual([]);
        const list = ImageList.parse(await (await fetch(`${server.url}/api/v1/images`)).json());
        expect(list.items).toEqual([]);
      }

      async function uploadAll(bytes: Uint8Array<ArrayBuffer>, metadata?: Record<string, string>) {
        const created = await createUpload(
          server.url,
          bytes.length,
          metadata ? { 'upload-metadata': tusMetadata(metadata) } : {},
        );
        expect(created.status).toBe(201);
        const location = created.headers.get('location') as string;
        return { location, last: await patchUpload(server.url, location, 0, bytes) };
      }

      test('an Upload-Length over AEX_MAX_UPLOAD_BYTES is a 413 at creation', async () => {
        const res = await createUpload(server.url, LIMIT + 1);
        await expectProblem(res, 413, 'payload_too_large', /AEX_MAX_UPLOAD_BYTES/);
        await expectNothingLeft();
      });

      test('a PATCH carrying more than Upload-Length is a 413; the offset stays', async () => {
        const created = await createUpload(server.url, 100);
        const location = created.headers.get('location') as string;
        const res = await patchUpload(server.url, location, 0, new Uint8Array(101));
        await expectProblem(res, 413, 'payload_too_large');
        expect((await headUpload(server.url, location)).headers.get('upload-offset')).toBe('0');
        await fetch(new URL(location, server.url), { method: 'DELETE', headers: TUS });
        await expectNothingLeft();
      });

      test.each([
        [{ sidecar: '{"source":"xmp","rating":11}' }, /Upload-Metadata sidecar.*rating/],
        [{ sidecar: 'not json' }, /Upload-Metadata sidecar is not JSON/],
        [{ modified: '3000-01-01T00:00:00Z' }, /Upload-Metadata modified/],
      ])('bad metadata %j is refused at creation, before any byte', async (metadata, detail) => {
        const res = await createUpload(server.url, 1000, {
          'upload-metadata': tusMetadata(metadata),
        });
        await expectProblem(res, 400, 'invalid_input', detail);
        await expectNothingLeft();
      });

      test('a malformed Upload-Metadata header is a 400', async () => {
        const res = await createUpload(server.url, 1000, { 'upload-metadata': 'filename !!!' });
        expect(res.status).toBe(400);
        await expectNothingLeft();
      });

      test('without Tus-Resumable the server answers 412, as tus requires', async () => {
        const res = await fetch(`${server.url}/api/v1/uploads`, {
          method: 'POST',
          headers: { 'upload-length': '10' },
        });
        expect(res.status).toBe(412);
        await expectNothingLeft();
      });

      test.each([
        ['random bytes', () => crypto.getRandomValues(new Uint8Array(5000)), 415, /not a known/],
        [
          'an SVG',
          () => new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'),
          415,
          /svg/,
        ],
        [
          'a truncated JPEG',
          async () => (await readFile(resolve(FIXTURES, 'objects/cat.jpg'))).subarray(0, 4000),
          400,
          /could not be decoded/,
        ],
      ])(
        '%s, completed, is refused by the last PATCH; the upload is gone',
        async (_n, make, status, detail) => {
          const bytes = new Uint8Array(await make());
          const { location, last } = await uploadAll(bytes, { filename: 'x.jpg' });
          await expectProblem(
            last,
            status,
            status === 415 ? 'unsupported_media_type' : 'invalid_input',
            detail,
          );
          expect((await headUpload(server.url, location)).status).toBe(404);
          await expectNothingLeft();
        },
      );

      test('a zero-length upload is refused as empty', async () => {
        const res = await createUpload(server.url, 0);
        await expectProblem(res, 400, 'invalid_input', /empty/);
        await expectNothingLeft();
      });

      test('termination: DELETE removes the upload and its bytes', async () => {
        const created = await createUpload(server.url, 5000);
        const location = created.headers.get('location') as string;
        await patchUpload(server.url, location, 0, new Uint8Array(1000));
        const del = () => fetch(new URL(location, server.url), { method: 'DELETE', headers: TUS });
        expect((await del()).status).toBe(204);
        expect((await headUpload(server.url, location)).status).toBe(404);
        await expectProblem(await del(), 404, 'not_found');
        await expectProblem(
          await patchUpload(server.url, location, 1000, new Uint8Array(1)),
          404,
          'not_found',
        );
        await expectNothingLeft();
      });

      test('hostile and unknown upload ids are 404s; GET reads no upload back', async () => {
        const created = await createUpload(server.url, 5000);
        const location = created.headers.get('location') as string;
        for (const path of [
          '/api/v1/uploads/..%2F..%2Fetc%2Fpasswd',
          '/api/v1/uploads/%2e%2e',
          '/api/v1/uploads/0123456789abcdef0123456789abcdef',
          '/api/v1/uploads/ZZZ',
        ]) {
          const res = await patchUpload(server.url, path, 0, new Uint8Array(10));
          expect({ path, status: res.status }).toEqual({ path, status: 404 });
          expect((await headUpload(server.url, path)).status).toBe(404);
        }
        const get = await fetch(new URL(location, server.url));
        expect(get.status).toBe(404);
        expect(Problem.parse(await get.json()).code).toBe('not_found');
        await fetch(new URL(location, server.url), { method: 'DELETE', headers: TUS });
        await expectNothingLeft();
      });
    },
  );
}

describe('uploads expire (AEX_UPLOAD_EXPIRY)', () => {
  let h: CoreHarness;
  let server: { url: string; stop(): Promise<void> };
  beforeAll(async () => {
    h = await startCoreHarness('embedded', { AEX_UPLOAD_EXPIRY: '2s' });
    server = serveCore(h);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    await h?.stop();
  });

  test('an expired upload answers 404 and the periodic sweep deletes its files', async () => {
    // A completed upload keeps only its record (for HEAD); it expires the same way.
    const image = await noisePng(16);
    const done = await createUpload(server.url, image.length);
    const doneAt = done.headers.get('location') as string;
    expect((await patchUpload(server.url, doneAt, 0, image)).status).toBe(204);
    expect((await headUpload(server.url, doneAt)).headers.get('x-aex-image-id')).toBeTruthy();

    const created = await createUpload(server.url, 10_000);
    expect(created.headers.get('upload-expires')).toBeTruthy();
    const location = created.headers.get('location') as string;
    expect((await patchUpload(server.url, location, 0, new Uint8Array(4000))).status).toBe(204);
    expect((await uploadFiles(h)).length).toBe(3); // the record; bytes and record
    await Bun.sleep(2100);
    expect((await headUpload(server.url, doneAt)).status).toBe(404);
    expect((await headUpload(server.url, location)).status).toBe(404);
    const late = await patchUpload(server.url, location, 4000, new Uint8Array(10));
    // 410 from tus (expired, not swept yet) or 404 (swept): both a 404 here.
    await expectProblem(late, 404, 'not_found', /expired|No such upload/);
    // The sweep runs every second here (a tenth of the expiry, at least 1 s).
    const deadline = Date.now() + 5000;
    while ((await uploadFiles(h)).length > 0 && Date.now() < deadline) await Bun.sleep(100);
    expect(await uploadFiles(h)).toEqual([]);
    expect((await headUpload(server.url, location)).status).toBe(404);
  }, 30_000);
});
