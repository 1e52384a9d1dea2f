import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { BlobStoreEnv, parseEnv } from '../../src/config.ts';
import { type S3TestServer, startS3rver } from '../../testing/s3rver.ts';
import { randomToken } from '../../testing/servers.ts';
import { BlobLengthError, BlobStoreUnavailableError } from './blob-store.ts';
import { blobStoreContract } from './contract.ts';
import { createBlobStore } from './create.ts';
import { createS3BlobStore, type S3BlobStore, type S3BlobStoreOptions } from './s3.ts';
import {
  bytes,
  chunksOf,
  digestStream,
  failingStream,
  generatedStream,
  listAll,
  readText,
} from './test-bodies.ts';

const BUCKET = 'aex-test';
const MiB = 1024 * 1024;
let server: S3TestServer;
let dir: string;

beforeAll(async () => {
  server = await startS3rver();
  await server.createBucket(BUCKET);
  dir = await mkdtemp(join(tmpdir(), 'aex-s3-test-'));
});
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A store on the test server under a random prefix, so runs and stores never collide. */
function makeStore(options: Partial<S3BlobStoreOptions> = {}): S3BlobStore {
  return createS3BlobStore({
    bucket: BUCKET,
    endpoint: server.endpoint,
    region: 'us-east-1',
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    prefix: `test-${randomToken()}`,
    ...options,
  });
}

/** Counts the SDK commands a store sends; `fail` makes one of them throw before it is sent. */
function countCommands(store: S3BlobStore, fail?: { command: string; nth: number }) {
  const counts: Record<string, number> = {};
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName);
      counts[name] = (counts[name] ?? 0) + 1;
      if (fail?.command === name && fail.nth === counts[name]) throw new Error('injected failure');
      return next(args);
    },
    { step: 'initialize' },
  );
  return counts;
}

blobStoreContract('s3 (s3rver)', async () => {
  const store = makeStore();
  return { store, cleanup: () => store.close() };
});

describe('s3 blob store', () => {
  test('putFile above the threshold goes up in parts and comes back whole', async () => {
    const store = makeStore({ multipartThreshold: 8 * MiB, partSize: 6 * MiB });
    const counts = countCommands(store);
    const size = 14 * MiB + 123;
    const source = generatedStream(size);
    await writeFile(join(dir, 'large.bin'), chunksOf(source.stream));
    await store.putFile('originals/large', join(dir, 'large.bin'), { contentType: 'image/tiff' });
    expect(counts).toMatchObject({
      CreateMultipartUploadCommand: 1,
      UploadPartCommand: 3,
      CompleteMultipartUploadCommand: 1,
    });
    expect(counts.PutObjectCommand).toBeUndefined();
    expect(await store.head('originals/large')).toMatchObject({ size, contentType: 'image/tiff' });
    const blob = await store.get('originals/large');
    expect(blob && (await digestStream(blob.body)).sha256).toBe(source.sha256());
    await store.close();
  }, 30_000);

  test('a failed part aborts the multipart upload and leaves no object', async () => {
    const store = makeStore({ multipartThreshold: 8 * MiB, partSize: 6 * MiB });
    const counts = countCommands(store, { command: 'UploadPartCommand', nth: 2 });
    await writeFile(join(dir, 'fails.bin'), new Uint8Array(13 * MiB));
    await expect(store.putFile('originals/fails', join(dir, 'fails.bin'))).rejects.toThrow(
      'injected failure',
    );
    expect(counts.AbortMultipartUploadCommand).toBe(1);
    expect(counts.CompleteMultipartUploadCommand).toBeUndefined();
    expect(await store.head('originals/fails')).toBeNull();
    await store.close();
  }, 30_000);

  test('a stream larger than a part goes up streamed in parts; failing midway leaves nothing', async () => {
    const store = makeStore({ partSize: 5 * MiB });
    const counts = countCommands(store);
    const size = 12 * MiB;
    const source = generatedStream(size);
    await store.put('big', source.stream, { contentLength: size });
    expect(counts).toMatchObject({ UploadPartCommand: 3, CompleteMultipartUploadCommand: 1 });
    const blob = await store.get('big');
    expect(blob && (await digestStream(blob.body)).sha256).toBe(source.sha256());
    const failed = store.put('broken', failingStream(7 * MiB), { contentLength: size });
    await expect(failed).rejects.toThrow('source failed');
    expect(counts.AbortMultipartUploadCommand).toBe(1);
    expect(await store.get('broken')).toBeNull();
    // One byte more than declared is found after the last part, before Complete.
    const long = store.put('long', generatedStream(6 * MiB + 1).stream, { contentLength: 6 * MiB });
    await expect(long).rejects.toBeInstanceOf(BlobLengthError);
    expect(counts.AbortMultipartUploadCommand).toBe(2);
    expect(await store.head('long')).toBeNull();
    await store.close();
  }, 30_000);

  test('a small stream is one PutObject', async () => {
    const store = makeStore();
    const counts = countCommands(store);
    await store.put('small', generatedStream(100_000).stream, { contentLength: 100_000 });
    expect(counts).toEqual({ PutObjectCommand: 1 });
    await store.close();
  });

  test('list follows continuation tokens across pages', async () => {
    const store = makeStore({ listPageSize: 2 });
    const keys = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5'];
    for (const key of keys) await store.put(key, bytes(key));
    const counts = countCommands(store);
    expect((await listAll(() => store.list('p/'))).map((b) => b.key)).toEqual(keys);
    expect(counts.ListObjectsV2Command).toBe(3);
    await store.close();
  });

  test('the prefix namespaces keys inside the bucket', async () => {
    const a = makeStore({ prefix: 'tenant-a' });
    const b = makeStore({ prefix: 'tenant-b/' });
    await a.put('same/key', bytes('from a'));
    expect(await b.get('same/key')).toBeNull();
    expect(await listAll(() => b.list('same/'))).toEqual([]);
    const raw = await a.client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'tenant-a/same/key' }),
    );
    expect(await raw.Body?.transformToString()).toBe('from a');
    await Promise.all([a.close(), b.close()]);
  });

  test('createBlobStore wires the S3_* variables to the bucket', async () => {
    const prefix = `env-${randomToken()}`;
    const env = parseEnv(BlobStoreEnv, {
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: server.endpoint,
      S3_ACCESS_KEY_ID: server.accessKeyId,
      S3_SECRET_ACCESS_KEY: server.secretAccessKey,
      S3_PREFIX: prefix,
    });
    const store = createBlobStore(env, { dataDir: join(dir, 'unused') });
    expect(store.kind).toBe('s3');
    await store.put('k', bytes('via env'));
    const other = makeStore({ prefix });
    const blob = await other.get('k');
    expect(blob && (await readText(blob.body))).toBe('via env');
    await Promise.all([store.close(), other.close()]);
  });

  describe('a bucket that cannot be used says why, at once', () => {
    const expectUnavailable = async (promise: Promise<unknown>, ...words: string[]) => {
      const error = await promise.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BlobStoreUnavailableError);
      for (const word of words) expect(String((error as Error).message)).toContain(word);
    };

    test('nothing listening at the endpoint', async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const store = makeStore({ endpoint, maxAttempts: 1, connectTimeoutMs: 1000 });
      const started = Date.now();
      await expectUnavailable(store.put('k', bytes('x')), endpoint, BUCKET, 'S3_ENDPOINT');
      await expectUnavailable(store.get('k'), endpoint, 'not reachable');
      await expectUnavailable(store.head('k'), endpoint);
      await expectUnavailable(
        listAll(() => store.list('')),
        endpoint,
      );
      expect(Date.now() - started).toBeLessThan(3000);
      await store.close();
    });

    test('a bucket that does not exist', async () => {
      const store = makeStore({ bucket: 'no-such-bucket', maxAttempts: 1 });
      await expectUnavailable(store.put('k', bytes('x')), 'no-such-bucket', 'S3_BUCKET');
      await store.close();
    });

    test('credentials the server refuses', async () => {
      const store = makeStore({ accessKeyId: 'WRONG', secretAccessKey: 'WRONG', maxAttempts: 1 });
      await expectUnavailable(store.put('k', bytes('x')), 'S3_ACCESS_KEY_ID');
      await store.close();
    });
  });

  test('options that cannot work throw when the store is made', () => {
    expect(() => makeStore({ partSize: MiB })).toThrow(RangeError);
    expect(() => makeStore({ listPageSize: 5000 })).toThrow(RangeError);
    expect(() => makeStore({ secretAccessKey: undefined })).toThrow(TypeError);
    expect(() => makeStore({ prefix: '../up' })).toThrow();
  });
});

/** A port with nothing listening on it: bound, then closed again. */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => done(typeof address === 'object' && address ? address.port : 1));
    });
  });
}
