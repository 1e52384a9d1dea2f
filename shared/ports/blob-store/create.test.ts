import { afterEach, beforeEach, expect, test } from 'bun:test';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStoreEnv, parseEnv } from '../../src/config.ts';
import { createBlobStore } from './create.ts';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'aex-create-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

test('without S3_BUCKET, blobs go to <dataDir>/blobs', async () => {
  const store = createBlobStore(parseEnv(BlobStoreEnv, {}), { dataDir });
  expect(store.kind).toBe('disk');
  await store.put('originals/ab/abc', new Uint8Array([1, 2, 3]));
  expect(await readdir(join(dataDir, 'blobs', 'originals', 'ab'))).toEqual(['abc']);
  await store.close();
});

test('with S3_BUCKET, the S3 store (s3.test.ts checks it against a server)', async () => {
  const env = parseEnv(BlobStoreEnv, {
    S3_BUCKET: 'aex-bucket',
    S3_ENDPOINT: 'http://127.0.0.1:9',
  });
  const store = createBlobStore(env, { dataDir });
  expect(store.kind).toBe('s3');
  await store.close();
  expect(await readdir(dataDir)).toEqual([]);
});
