import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { Image, ImageList, Problem } from '@aex/shared';
import { suiteName } from '@aex/shared/testing/servers';
import * as tus from 'tus-js-client';
import { ADAPTER_SETS, type CoreHarness, startCoreHarness } from '../testing/core-harness.ts';
import {
  createUpload,
  flakyProxy,
  headUpload,
  noisePng,
  patchThenDrop,
  patchUpload,
  serveCore,
  TUS,
  tusMetadata,
  uploadFiles,
} from './routes/uploads-testing.ts';

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Uploads with the real tus client; resolves with the final response's X-Aex-Image-Id. */
function tusUpload(
  endpoint: string,
  bytes: Uint8Array,
  options: Partial<tus.UploadOptions> = {},
): Promise<{
  imageId: string | undefined;
  created: string | undefined;
  chunks: number;
  url: string | null;
}> {
  let chunks = 0;
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(Buffer.from(bytes), {
      endpoint,
      chunkSize: MiB,
      retryDelays: [0, 100, 250],
      storeFingerprintForResuming: false,
      onChunkComplete: () => {
        chunks++;
      },
      onSuccess: ({ lastResponse }) =>
        resolve({
          imageId: lastResponse.getHeader('x-aex-image-id'),
          created: lastResponse.getHeader('x-aex-image-created'),
          chunks,
          url: upload.url,
        }),
      onError: reject,
      ...options,
    });
    upload.start();
  });
}

for (const set of ADAPTER_SETS) {
  describe.skipIf(!set.available)(
    suiteName(`resumable uploads (tus) on ${set.name}`, set.available, 'Postgres or NATS'),
    () => {
      let h: CoreHarness;
      let server: { url: string; stop(): Promise<void> };
      let big: Uint8Array;
      beforeAll(async () => {
        h = await startCoreHarness(set.kind, { AEX_MAX_UPLOAD_BYTES: '16M' });
        server = serveCore(h);
        big = await noisePng(2048); // ≈ 12 MB
      }, 30_000);
      afterAll(async () => {
        await server?.stop();
        await h?.stop();
      });

      const image = async (id: string) =>
        Image.parse(await (await fetch(`${server.url}/api/v1/images/${id}`)).json());
      const imagesWith = async (sum: string) =>
        ImageList.parse(
          await (await fetch(`${server.url}/api/v1/images?limit=200`)).json(),
        ).items.filter((i) => i.sha256 === sum);

      test('OPTIONS announces tus 1.0.0, its extensions and the size limit', async () => {
        const res = await fetch(`${server.url}/api/v1/uploads`, { method: 'OPTIONS' });
        expect(res.status).toBe(204);
        expect(res.headers.get('tus-version')).toBe('1.0.0');
        const extensions = res.headers.get('tus-extension')?.split(',') ?? [];
        expect(extensions).toEqual(
          expect.arrayContaining(['creation', 'termination', 'expiration']),
        );
        expect(res.headers.get('tus-max-size')).toBe(String(16 * MiB));
      });

      test('tus-js-client uploads 12 MB in 1 MB chunks; the image has its name and sha256', async () => {
        expect(big.length).toBeGreaterThan(12 * 1000 * 1000);
        const { imageId, chunks, url } = await tusUpload(`${server.url}/api/v1/uploads`, big, {
          metadata: {
            filename: '../../etc/big noise.png',
            filetype: 'image/png',
            modified: '2023-03-04T05:06:07Z',
          },
        });
        expect(chunks).toBe(Math.ceil(big.length / MiB));
        expect(imageId).toBeDefined();
        const stored = await image(imageId as string);
        expect(stored).toMatchObject({
          sha256: sha256(big),
          byteSize: big.length,
          width: 2048,
          originalName: 'big noise.png',
          takenAt: '2023-03-04T05:06:07.000Z',
          takenAtSource: 'file',
        });
        // The bytes went to the blob store; only the upload's small record stays, so HEAD
        // still tells a client that lost the last answer what the upload became.
        const id = new URL(url as string, server.url).pathname.split('/').pop();
        expect(await uploadFiles(h)).toEqual([`${id}.json`]);
        const head = await headUpload(server.url, url as string);
        expect(head.status).toBe(200);
        expect(head.headers.get('upload-offset')).toBe(String(big.length));
        expect(head.headers.get('x-aex-image-id')).toBe(imageId as string);
        // A resumed client, finding it complete, succeeds without sending anything.
        const resumed = await tusUpload(`${server.url}/api/v1/uploads`, big, {
          uploadUrl: url as string,
        });
        expect(resumed).toMatchObject({ imageId, chunks: 0 });
        expect(await h.spoolFiles()).toEqual([]);
      }, 30_000);

      test('a connection dropped mid-chunk: HEAD gives the offset, a wrong offset is 409, resuming completes', async () => {
        const bytes = await noisePng(1100); // ≈ 3.6 MB
        const created = await createUpload(server.url, bytes.length, {
          'upload-metadata': tusMetadata({ filename: 'dropped.png' }),
        });
        expect(created.status).toBe(201);
        const location = created.headers.get('location') as string;
        expect(location).toMatch(/^\/api\/v1\/uploads\/[0-9a-f]{32}$/);
        expect((await patchUpload(server.url, location, 0, bytes.subarray(0, MiB))).status).toBe(
          204,
        );

        // Second chunk: 1 MiB declared, 300 kB sent, then the connection dies.
        await patchThenDrop(server.url, location, MiB, MiB, bytes.subarray(MiB, MiB + 300_000));
        const head = await headUpload(server.url, location);
        expect(head.status).toBe(200);
        expect(head.headers.get('cache-control')).toBe('no-store');
        const offset = Number(head.headers.get('upload-offset'));
        expect(offset).toBeGreaterThanOrEqual(MiB);
        expect(offset).toBeLessThanOrEqual(MiB + 300_000);

        for (const wrong of [0, offset - 1, offset + 1]) {
          const res = await patchUpload(
            server.url,
            location,
            wrong,
            bytes.subarray(wrong, wrong + 10),
          );
          expect(res.status).toBe(409);
          expect(res.headers.get('content-type')).toBe('application/problem+json');
          expect(Problem.parse(await res.json()).detail).toMatch(/HEAD/);
        }
        expect((await headUpload(server.url, location)).headers.get('upload-offset')).toBe(
          String(offset),
        );

        let at = offset;
        let last: Response | undefined;
        while (at < bytes.length) {
          const next = Math.min(bytes.length, at + MiB);
          last = await patchUpload(server.url, location, at, bytes.subarray(at, next));
          expect(last.status).toBe(204);
          expect(last.headers.get('upload-offset')).toBe(String(next));
          at = next;
        }
        const imageId = last?.headers.get('x-aex-image-id') as string;
        expect(last?.headers.get('x-aex-image-created')).toBe('true');
        expect((await image(imageId)).sha256).toBe(sha256(bytes));
        expect(await imagesWith(sha256(bytes))).toHaveLength(1);
      }, 30_000);

      test('tus-js-client rides out a connection cut mid-chunk by the network', async () => {
        const bytes = await noisePng(1400); // ≈ 5.9 MB
        const proxy = await flakyProxy(server.url, 3 * MiB + 123_457);
        try {
          const { imageId } = await tusUpload(`${proxy.url}/api/v1/uploads`, bytes, {
            metadata: { filename: 'flaky.png' },
          });
          expect(proxy.drops()).toBe(1);
          expect((await image(imageId as string)).sha256).toBe(sha256(bytes));
          expect(await imagesWith(sha256(bytes))).toHaveLength(1);
        } finally {
          await proxy.stop();
        }
      }, 30_000);

      test('the same bytes again through tus give the same image, not a second one', async () => {
        const bytes = await noisePng(300);
        const first = await tusUpload(`${server.url}/api/v1/uploads`, bytes);
        expect(first.created).toBe('true');
        const second = await tusUpload(`${server.url}/api/v1/uploads`, bytes);
        expect(second).toMatchObject({ imageId: first.imageId, created: 'false' });
        expect(await imagesWith(sha256(bytes))).toHaveLength(1);
      });

      test('creation-with-upload: one POST carrying the whole file is ingested at once', async () => {
        const bytes = await noisePng(200);
        const res = await fetch(`${server.url}/api/v1/uploads`, {
          method: 'POST',
          headers: {
            ...TUS,
            'upload-length': String(bytes.length),
            'content-type': 'application/offset+octet-stream',
            'upload-metadata': tusMetadata({ filename: 'one-shot.png' }),
          },
          body: bytes,
        });
        expect(res.status).toBe(201);
        expect(res.headers.get('upload-offset')).toBe(String(bytes.length));
        const stored = await image(res.headers.get('x-aex-image-id') as string);
        expect(stored).toMatchObject({ sha256: sha256(bytes), originalName: 'one-shot.png' });
      });

      test('the OpenAPI document describes the tus routes, batch-status and the upload headers', async () => {
        const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
          paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
        };
        expect(Object.keys(doc.paths['/api/v1/uploads'] ?? {}).sort()).toEqual(['options', 'post']);
        expect(Object.keys(doc.paths['/api/v1/uploads/{id}'] ?? {}).sort()).toEqual([
          'delete',
          'head',
          'patch',
        ]);
        expect(doc.paths['/api/v1/images/batch-status']?.post).toBeDefined();
        const names = doc.paths['/api/v1/images']?.post?.parameters?.map((p) => p.name) ?? [];
        expect(names).toEqual(
          expect.arrayContaining([
            'x-aex-file-name',
            'x-aex-file-modified',
            'x-aex-sidecar',
            'idempotency-key',
          ]),
        );
      });

      test('Idempotency-Key on creation: a retry gets the same upload, another request a 409', async () => {
        const headers = {
          'idempotency-key': `create-${set.kind}`,
          'upload-metadata': tusMetadata({ filename: 'a.png' }),
        };
        const before = (await uploadFiles(h)).length;
        const first = await createUpload(server.url, 1000, headers);
        expect(first.status).toBe(201);
        const again = await createUpload(server.url, 1000, headers);
        expect(again.status).toBe(201);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.headers.get('location')).toBe(first.headers.get('location'));
        expect(again.headers.get('tus-resumable')).toBe('1.0.0');
        expect((await uploadFiles(h)).length).toBe(before + 2); // one upload: bytes + record
        const other = await createUpload(server.url, 2000, headers);
        expect(other.status).toBe(409);
        expect(Problem.parse(await other.json()).detail).toMatch(/different request/);
        const gone = await fetch(new URL(first.headers.get('location') as string, server.url), {
          method: 'DELETE',
          headers: TUS,
        });
        expect(gone.status).toBe(204);
      });
    },
  );
}
