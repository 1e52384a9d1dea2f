import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlobKeyError,
  BlobLengthError,
  BlobRangeError,
  type BlobStore,
  type GetOptions,
} from './blob-store.ts';
import {
  bytes,
  counting,
  digestStream,
  failingStream,
  generatedStream,
  listAll,
  readAll,
  readText,
  streamOf,
} from './test-bodies.ts';

export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

const HOSTILE_KEYS = [
  ...['../../etc/passwd', '/abs', 'a//b', '.hidden', 'a/../b', 'a/./b', 'a\\b', 'a\0b'],
  ...['', 'a/', 'x/.meta', 'sp ace', 'k'.repeat(1025)],
];
const HOSTILE_PREFIXES = ['../', '/abs', 'a//', '.hidden', 'a/../', 'a\\b', 'a\0'];

/**
 * The blob store contract: one suite every adapter must pass. `make` is called once; each
 * test writes under its own random folder, so tests never see each other's blobs.
 */
export function blobStoreContract(name: string, make: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture | undefined;
    let store: BlobStore;
    let dir: string;
    beforeAll(async () => {
      fixture = await make();
      store = fixture.store;
      dir = await mkdtemp(join(tmpdir(), 'aex-blob-contract-'));
    });
    afterAll(async () => {
      await fixture?.cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    const folder = () => `t-${randomUUID()}`;
    const get = async (key: string, options?: GetOptions) => {
      const blob = await store.get(key, options);
      return blob && { ...blob, text: await readText(blob.body) };
    };

    test('put bytes, get them back with size and content type', async () => {
      const key = `${folder()}/hello.txt`;
      await store.put(key, bytes('hello, blob'), { contentType: 'text/plain' });
      const blob = await get(key);
      expect(blob?.text).toBe('hello, blob');
      expect(blob).toMatchObject({ key, size: 11, contentType: 'text/plain' });
      expect(blob?.range).toBeUndefined();
    });

    test('put a stream in several chunks', async () => {
      const key = `${folder()}/chunks`;
      const body = streamOf(bytes('one '), bytes(''), bytes('two '), bytes('three'));
      await store.put(key, body, { contentLength: 13 });
      expect((await get(key))?.text).toBe('one two three');
    });

    test('a 20 MB stream comes back with the same sha256, in chunks', async () => {
      const key = `${folder()}/big.bin`;
      const size = 20 * 1000 * 1000;
      const source = generatedStream(size);
      await store.put(key, source.stream, { contentLength: size, contentType: 'image/jpeg' });
      const blob = await store.get(key);
      if (!blob) throw new Error('blob missing after put');
      expect(blob.size).toBe(size);
      const read = await digestStream(blob.body);
      expect(read.sha256).toBe(source.sha256());
      expect(read.size).toBe(size);
      // A streamed body arrives in many chunks; one chunk would mean it was buffered whole.
      expect(read.chunks).toBeGreaterThan(10);
      expect(read.largest).toBeLessThan(size / 4);
    }, 60_000);

    test('putFile stores a local file', async () => {
      const path = join(dir, 'local.bin');
      const content = counting(300_000);
      await writeFile(path, content);
      const key = `${folder()}/from-file`;
      await store.putFile(key, path, { contentType: 'image/webp' });
      const blob = await store.get(key);
      expect(blob && (await readAll(blob.body))).toEqual(content);
      expect(await store.head(key)).toMatchObject({ size: 300_000, contentType: 'image/webp' });
    });

    test('putFile with move stores the file; the source is gone or untouched', async () => {
      const path = join(dir, 'spooled.bin');
      const content = counting(200_000);
      await writeFile(path, content);
      const key = `${folder()}/moved`;
      await store.putFile(key, path, { contentType: 'image/jpeg', move: true });
      const blob = await store.get(key);
      expect(blob && (await readAll(blob.body))).toEqual(content);
      expect(await store.head(key)).toMatchObject({ size: 200_000, contentType: 'image/jpeg' });
      const left = await readFile(path).catch(() => null);
      if (left) expect(Buffer.from(left).equals(Buffer.from(content))).toBe(true);
    });

    test('putFile of a missing file fails and stores nothing', async () => {
      const key = `${folder()}/nothing`;
      await expect(store.putFile(key, join(dir, 'no-such-file'))).rejects.toThrow();
      expect(await store.head(key)).toBeNull();
    });

    test('head gives size, content type and modification time without the bytes', async () => {
      const key = `${folder()}/h`;
      const before = Date.now();
      await store.put(key, counting(1234), { contentType: 'application/x-test' });
      const info = await store.head(key);
      expect(info).toMatchObject({ key, size: 1234, contentType: 'application/x-test' });
      // S3 keeps whole seconds, hence the slack.
      expect(info?.lastModified?.getTime()).toBeGreaterThan(before - 2000);
      expect(info?.lastModified?.getTime()).toBeLessThan(Date.now() + 2000);
    });

    test('a missing blob is null for get, head and ranged get', async () => {
      const key = `${folder()}/missing`;
      expect(await store.get(key)).toBeNull();
      expect(await store.get(key, { range: { start: 5 } })).toBeNull();
      expect(await store.head(key)).toBeNull();
    });

    test('overwrite replaces bytes and content type', async () => {
      const key = `${folder()}/o`;
      await store.put(key, bytes('first version'), { contentType: 'image/png' });
      await store.put(key, bytes('second'));
      const blob = await get(key);
      expect(blob?.text).toBe('second');
      expect(blob?.size).toBe(6);
      expect(blob?.contentType).not.toBe('image/png');
      await store.put(key, bytes('third'), { contentType: 'image/avif' });
      expect(await store.head(key)).toMatchObject({ size: 5, contentType: 'image/avif' });
    });

    test('delete removes a blob; deleting again or a missing one is fine', async () => {
      const base = folder();
      await store.put(`${base}/d/x`, bytes('x'));
      await store.put(`${base}/d/y`, bytes('y'));
      await store.delete(`${base}/d/x`);
      expect(await store.get(`${base}/d/x`)).toBeNull();
      expect(await store.head(`${base}/d/x`)).toBeNull();
      await store.delete(`${base}/d/x`);
      await store.delete(`${base}/never/was`);
      // `d` is a folder of blobs, not a blob: deleting it deletes nothing.
      await store.delete(`${base}/d`);
      expect((await listAll(() => store.list(`${base}/`))).map((b) => b.key)).toEqual([
        `${base}/d/y`,
      ]);
    });

    test('list yields nested keys under a prefix, in byte order, and nothing else', async () => {
      const base = folder();
      // No key is also a folder (`a` beside `a/b`): S3 allows it, the disk store cannot. No
      // `a-b` or `a.txt` beside `a/…` either: byte order puts it first, s3rver (unlike S3 and MinIO)
      // lists folder by folder; disk.test.ts checks that case on its own.
      const keys = ['a/b', 'a/c/d', 'ab', 'b/c', 'b1', 'z/y/x/w'].map((k) => `${base}/${k}`);
      for (const key of [...keys].reverse()) await store.put(key, bytes(key));
      await store.put(`${base}x/outside`, bytes('other prefix'));
      const all = await listAll(() => store.list(`${base}/`));
      expect(all.map((b) => b.key)).toEqual([...keys].sort());
      for (const info of all) expect(info.size).toBe(info.key.length);
      const keysUnder = async (prefix: string) =>
        (await listAll(() => store.list(prefix))).map((b) => b.key.slice(base.length + 1));
      expect(await keysUnder(`${base}/a/`)).toEqual(['a/b', 'a/c/d']);
      expect(await keysUnder(`${base}/a`)).toEqual(['a/b', 'a/c/d', 'ab']);
      expect(await keysUnder(`${base}/a/c`)).toEqual(['a/c/d']);
      expect(await keysUnder(`${base}/b`)).toEqual(['b/c', 'b1']);
      expect(await keysUnder(`${base}/b/`)).toEqual(['b/c']);
      expect(await keysUnder(`${base}/nothing/`)).toEqual([]);
      const withSibling = (await listAll(() => store.list(base))).map((b) => b.key);
      expect(withSibling).toEqual([...keys].sort().concat(`${base}x/outside`));
    });

    describe('byte ranges', () => {
      const content = counting(100);
      let key: string;
      beforeAll(async () => {
        key = `${folder()}/ranged`;
        await store.put(key, content, { contentType: 'application/octet-stream' });
      });
      const ranged = async (range: { start: number; end?: number }) => {
        const blob = await store.get(key, { range });
        if (!blob) throw new Error('blob missing');
        return { size: blob.size, range: blob.range, body: await readAll(blob.body) };
      };

      test('first bytes', async () => {
        expect(await ranged({ start: 0, end: 9 })).toEqual({
          size: 100,
          range: { start: 0, end: 9 },
          body: content.slice(0, 10),
        });
      });
      test('middle', async () => {
        const got = await ranged({ start: 40, end: 59 });
        expect(got.range).toEqual({ start: 40, end: 59 });
        expect(got.body).toEqual(content.slice(40, 60));
      });
      test('from an offset to the end, and an end past the end', async () => {
        expect(await ranged({ start: 90 })).toEqual({
          size: 100,
          range: { start: 90, end: 99 },
          body: content.slice(90),
        });
        expect((await ranged({ start: 95, end: 1000 })).range).toEqual({ start: 95, end: 99 });
        expect((await ranged({ start: 99, end: 99 })).body).toEqual(content.slice(99));
      });
      test('a start at or past the end is BlobRangeError with the size', async () => {
        for (const range of [{ start: 100 }, { start: 150, end: 200 }]) {
          const error = await store.get(key, { range }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(BlobRangeError);
          expect((error as BlobRangeError).size).toBe(100);
        }
      });
      test('a range no header could ask for is RangeError', async () => {
        await expect(store.get(key, { range: { start: 5, end: 2 } })).rejects.toThrow(RangeError);
        await expect(store.get(key, { range: { start: -1 } })).rejects.toThrow(RangeError);
      });
    });

    test('an empty blob, from bytes or from a stream', async () => {
      const base = folder();
      await store.put(`${base}/e1`, new Uint8Array(0));
      await store.put(`${base}/e2`, streamOf(), { contentLength: 0 });
      for (const key of [`${base}/e1`, `${base}/e2`]) {
        const blob = await store.get(key);
        expect(blob?.size).toBe(0);
        expect(blob && (await readAll(blob.body)).byteLength).toBe(0);
        const error = await store.get(key, { range: { start: 0 } }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BlobRangeError);
      }
      expect((await listAll(() => store.list(`${base}/`))).map((b) => b.size)).toEqual([0, 0]);
    });

    test('a stream that fails midway leaves no blob, and an old one intact', async () => {
      const base = folder();
      const size = 1024 * 1024;
      await expect(
        store.put(`${base}/new`, failingStream(256 * 1024), { contentLength: size }),
      ).rejects.toThrow('source failed');
      expect(await store.get(`${base}/new`)).toBeNull();
      await store.put(`${base}/old`, bytes('old bytes'), { contentType: 'text/plain' });
      await expect(
        store.put(`${base}/old`, failingStream(256 * 1024), { contentLength: size }),
      ).rejects.toThrow('source failed');
      expect(await get(`${base}/old`)).toMatchObject({
        text: 'old bytes',
        contentType: 'text/plain',
      });
      expect((await listAll(() => store.list(`${base}/`))).map((b) => b.key)).toEqual([
        `${base}/old`,
      ]);
    });

    test('a stream shorter or longer than contentLength is refused and leaves nothing', async () => {
      const key = `${folder()}/len`;
      const short = store.put(key, streamOf(bytes('12345')), { contentLength: 6 });
      await expect(short).rejects.toBeInstanceOf(BlobLengthError);
      const long = store.put(key, streamOf(bytes('1234'), bytes('567')), { contentLength: 6 });
      await expect(long).rejects.toBeInstanceOf(BlobLengthError);
      await expect(store.put(key, bytes('12'), { contentLength: 3 })).rejects.toBeInstanceOf(
        BlobLengthError,
      );
      await expect(store.put(key, streamOf(bytes('x')))).rejects.toThrow('contentLength');
      expect(await store.head(key)).toBeNull();
    });

    describe('hostile keys are refused by every method', () => {
      const file = () => join(dir, 'hostile-source');
      beforeAll(() => writeFile(file(), 'x'));
      const methods: [string, (key: string) => Promise<unknown>][] = [
        ['put', (key) => store.put(key, bytes('x'))],
        ['put stream', (key) => store.put(key, streamOf(bytes('x')), { contentLength: 1 })],
        ['putFile', (key) => store.putFile(key, file())],
        ['get', (key) => store.get(key)],
        ['get range', (key) => store.get(key, { range: { start: 0 } })],
        ['head', (key) => store.head(key)],
        ['delete', (key) => store.delete(key)],
      ];
      test.each(methods)('%s', async (_name, method) => {
        for (const key of HOSTILE_KEYS) {
          const error = await method(key).catch((e: unknown) => e);
          expect(error, JSON.stringify(key)).toBeInstanceOf(BlobKeyError);
        }
      });
      test('list', async () => {
        for (const prefix of HOSTILE_PREFIXES) {
          const error = await listAll(() => store.list(prefix)).catch((e: unknown) => e);
          expect(error, JSON.stringify(prefix)).toBeInstanceOf(BlobKeyError);
        }
      });
    });
  });
}
