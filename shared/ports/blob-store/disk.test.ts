import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from './blob-store.ts';
import { blobStoreContract } from './contract.ts';
import { BlobKeyConflictError, createDiskBlobStore } from './disk.ts';
import { bytes, counting, failingStream, listAll, readAll, streamOf } from './test-bodies.ts';

blobStoreContract('disk', async () => {
  const root = await mkdtemp(join(tmpdir(), 'aex-blobs-'));
  return {
    store: createDiskBlobStore({ root }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('disk blob store', () => {
  let parent: string;
  let root: string;
  let store: BlobStore;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'aex-disk-'));
    root = join(parent, 'root');
    await mkdir(root);
    store = createDiskBlobStore({ root });
  });
  afterEach(() => rm(parent, { recursive: true, force: true }));

  /** Every file and folder under `dir`, as sorted relative paths. */
  const tree = async (dir: string) => (await readdir(dir, { recursive: true })).sort();

  test('blobs are plain files; no temp files stay behind, even after failures', async () => {
    await store.put('a/b/c', bytes('c'), { contentType: 'text/plain' });
    await store.put('a/b/c', streamOf(bytes('cc')), { contentLength: 2, contentType: 'text/x' });
    await store.put('a/d', streamOf(bytes('d')), { contentLength: 1 });
    await writeFile(join(parent, 'source'), 'file');
    await store.putFile('f', join(parent, 'source'));
    const failed = store.put('a/d', failingStream(100_000), { contentLength: 200_000 });
    await expect(failed).rejects.toThrow('source failed');
    await expect(store.put('a/e', bytes('e'), { contentLength: 9 })).rejects.toThrow();
    await expect(store.put('g/h/i', failingStream(10), { contentLength: 20 })).rejects.toThrow();
    expect(await tree(root)).toEqual(['a', 'a/b', 'a/b/.c.meta.json', 'a/b/c', 'a/d', 'f']);
    expect(await readFile(join(root, 'a/b/c'), 'utf8')).toBe('cc');
  });

  test('putFile with move renames the file into place on the same filesystem', async () => {
    const source = join(parent, 'spooled');
    await writeFile(source, 'original bytes');
    const before = (await stat(source)).ino;
    await store.putFile('o/x', source, { contentType: 'image/jpeg', move: true });
    expect(await stat(source).catch(() => null)).toBeNull();
    expect((await stat(join(root, 'o/x'))).ino).toBe(before);
    expect(await readFile(join(root, 'o/x'), 'utf8')).toBe('original bytes');
    // Without move the caller's file stays.
    await writeFile(source, 'kept');
    await store.putFile('o/y', source);
    expect(await readFile(source, 'utf8')).toBe('kept');
  });

  test('hostile keys write, read and delete nothing inside or outside root', async () => {
    await writeFile(join(parent, 'secret'), 'keep');
    await writeFile(join(parent, 'source'), 'x');
    for (const key of ['../secret', '../../secret', '/tmp/evil', 'a//b', '.hidden', 'a\\..\\b']) {
      await expect(store.put(key, bytes('x'))).rejects.toThrow();
      await expect(store.putFile(key, join(parent, 'source'))).rejects.toThrow();
      await expect(store.get(key)).rejects.toThrow();
      await expect(store.delete(key)).rejects.toThrow();
    }
    expect((await readdir(parent)).sort()).toEqual(['root', 'secret', 'source']);
    expect(await readFile(join(parent, 'secret'), 'utf8')).toBe('keep');
    expect(await tree(root)).toEqual([]);
  });

  test('a streamed put writes as it reads, and the blob appears only when whole', async () => {
    const chunk = 1024 * 1024;
    let release = () => {};
    const gate = new Promise<void>((done) => {
      release = done;
    });
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (pulled === 4) await gate;
        if (pulled === 8) return controller.close();
        pulled++;
        controller.enqueue(new Uint8Array(chunk).fill(pulled));
      },
    });
    const put = store.put('big/blob', body, { contentLength: 8 * chunk });
    // While the source is held halfway, its bytes are already on disk in the temp file…
    let tempSize = 0;
    for (let i = 0; i < 200 && tempSize < 3 * chunk; i++) {
      await Bun.sleep(10);
      const temps = (await readdir(join(root, 'big')).catch(() => [])).filter((n) =>
        n.endsWith('.tmp'),
      );
      tempSize = temps[0] ? (await stat(join(root, 'big', temps[0]))).size : 0;
    }
    expect(tempSize).toBeGreaterThanOrEqual(3 * chunk);
    // …and readers do not see the blob at all.
    expect(await store.get('big/blob')).toBeNull();
    expect(await listAll(() => store.list(''))).toEqual([]);
    release();
    await put;
    expect((await store.head('big/blob'))?.size).toBe(8 * chunk);
  });

  test('a reader keeps the version it opened while a new one is put', async () => {
    const first = counting(2 * 1024 * 1024);
    await store.put('v', first);
    const opened = await store.get('v');
    await store.put('v', bytes('second'));
    expect(opened && (await readAll(opened.body))).toEqual(first);
    const now = await store.get('v');
    expect(now && (await readAll(now.body))).toEqual(bytes('second'));
  });

  test('delete prunes the folders it empties, but not root or non-empty ones', async () => {
    await store.put('x/y/z/1', bytes('1'));
    await store.put('x/2', bytes('2'));
    await store.delete('x/y/z/1');
    expect(await tree(root)).toEqual(['x', 'x/2']);
    await store.delete('x/2');
    expect(await tree(root)).toEqual([]);
    expect((await stat(root)).isDirectory()).toBe(true);
  });

  test('list skips files the store did not write as blobs', async () => {
    await store.put('a/b', bytes('b'), { contentType: 'text/plain' });
    await writeFile(join(root, '.DS_Store'), 'x');
    await writeFile(join(root, 'has space'), 'x');
    await writeFile(join(root, 'a', '.b.1234.tmp'), 'x');
    expect((await listAll(() => store.list(''))).map((b) => b.key)).toEqual(['a/b']);
  });

  test('a fresh store on the same folder sees blobs and content types', async () => {
    await store.put('p/q', bytes('persisted'), { contentType: 'image/heic' });
    const again = createDiskBlobStore({ root });
    expect(await again.head('p/q')).toMatchObject({ size: 9, contentType: 'image/heic' });
  });

  test('a store whose root does not exist yet lists nothing and creates it on put', async () => {
    const fresh = createDiskBlobStore({ root: join(parent, 'later', 'blobs') });
    expect(await listAll(() => fresh.list(''))).toEqual([]);
    expect(await fresh.get('k')).toBeNull();
    await fresh.put('k', bytes('k'));
    expect(await tree(join(parent, 'later'))).toEqual(['blobs', 'blobs/k']);
  });

  test('a key that is also a folder is a clear error and leaves nothing behind', async () => {
    await store.put('a/b', bytes('b'));
    const conflict = store.put('a', bytes('a'), { contentType: 'text/plain' });
    await expect(conflict).rejects.toBeInstanceOf(BlobKeyConflictError);
    await expect(store.put('a/b/c', bytes('c'))).rejects.toBeInstanceOf(BlobKeyConflictError);
    expect(await tree(root)).toEqual(['a', 'a/b']);
  });

  test('list yields whole keys in byte order, as S3 does, not folder by folder', async () => {
    // `-` (0x2d) and `.` (0x2e) sort before `/` (0x2f): `a-b` comes before `a/b`.
    const keys = ['a-b', 'a.txt', 'a/b', 'a/c/d', 'a0', 'ab'];
    for (const key of [...keys].reverse()) await store.put(key, bytes(key));
    expect((await listAll(() => store.list(''))).map((b) => b.key)).toEqual(keys);
    expect((await listAll(() => store.list('a'))).map((b) => b.key)).toEqual(keys);
    expect((await listAll(() => store.list('a/'))).map((b) => b.key)).toEqual(['a/b', 'a/c/d']);
  });
});
