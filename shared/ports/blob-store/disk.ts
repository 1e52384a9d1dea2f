import { randomUUID } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import {
  copyFile,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import {
  assertBlobKey,
  assertBlobPrefix,
  type BlobBody,
  type BlobInfo,
  BlobKeyError,
  type BlobObject,
  BlobRangeError,
  type BlobStore,
  type GetOptions,
  isBlobKey,
  type PutFileOptions,
  type PutOptions,
} from './blob-store.ts';
import { BodyReader, declaredLength } from './body.ts';
import { fileStream, writeAll } from './disk-stream.ts';
import { checkRange } from './range.ts';

/**
 * The disk blob store (embedded mode). Only node:fs APIs, so it runs on Bun, Node and Deno.
 *
 * Layout: the blob of key `a/b/c` is the plain file `<root>/a/b/c`, so the tree can be read,
 * backed up or synced to a bucket as it is. Its content type sits beside it in `.c.meta.json`
 * and writes go through `.c.<uuid>.tmp`: keys never start with `.`, so neither can clash
 * with a blob, and `list` skips them. A key cannot be both a blob and a folder of other blobs
 * (`a` and `a/b`); the content-addressed layout never asks for that.
 */
export interface DiskBlobStoreOptions {
  /** The folder that holds the blobs; created on the first write. */
  root: string;
}

const MISSING = new Set(['ENOENT', 'ENOTDIR']);
/** What fs says when a file stands where a folder must go, or the other way round. */
const CONFLICT = new Set(['EISDIR', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY']);

/** A key that is also a folder of other blobs (`a` and `a/b`): S3 allows it, a disk cannot. */
export class BlobKeyConflictError extends Error {
  override name = 'BlobKeyConflictError';
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`blob key ${JSON.stringify(key)} clashes with a blob or folder of the same name`, {
      cause,
    });
  }
}

/** Creates a blob store over a local folder. */
export function createDiskBlobStore(options: DiskBlobStoreOptions): BlobStore {
  const root = resolve(options.root);

  const keyOf = (path: string) =>
    path
      .slice(root.length + 1)
      .split(sep)
      .join('/');

  function pathOf(key: string): string {
    assertBlobKey(key);
    const path = join(root, ...key.split('/'));
    // assertBlobKey already refuses `..` and absolute keys; this second lock costs nothing.
    if (!path.startsWith(root + sep)) throw new BlobKeyError(key);
    return path;
  }

  /** Writes `path` through a temp file and a rename, so readers see all of it or none. */
  async function commit(
    path: string,
    contentType: string | undefined,
    write: (temp: string) => Promise<void>,
  ): Promise<void> {
    const temp = sidePath(path, `${randomUUID()}.tmp`);
    const metaTemp = sidePath(path, `${randomUUID()}.meta.tmp`);
    try {
      await inDirectory(dirname(path), () => write(temp));
      // The content type changes first: just before the bytes' rename a reader may pair the
      // old bytes with the new type, never the new bytes with a stale one. (Content-addressed
      // keys never change bytes, so in practice nobody sees even that.)
      if (contentType === undefined) {
        await unlink(metaPath(path)).catch(ignoreMissing);
      } else {
        await writeFile(metaTemp, JSON.stringify({ contentType }));
        await rename(metaTemp, metaPath(path));
      }
      await rename(temp, path);
    } catch (error) {
      const conflict = CONFLICT.has(codeOf(error));
      // On a conflict no blob can exist at `path`, so a content type written for it goes too.
      const leftovers = conflict ? [temp, metaTemp, metaPath(path)] : [temp, metaTemp];
      await Promise.all(leftovers.map((p) => unlink(p).catch(() => {})));
      await pruneEmptyParents(dirname(path));
      if (conflict) throw new BlobKeyConflictError(keyOf(path), error);
      throw error;
    }
  }

  /** Creates `dir` and runs `write` in it; retries when a concurrent delete pruned it. */
  async function inDirectory(dir: string, write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await mkdir(dir, { recursive: true });
      try {
        return await write();
      } catch (error) {
        if (attempt >= 3 || !isCode(error, 'ENOENT')) throw error;
      }
    }
  }

  /** Removes the folders a delete emptied; `rmdir` refuses non-empty ones, which ends it. */
  async function pruneEmptyParents(dir: string): Promise<void> {
    for (let current = dir; current.startsWith(root + sep); current = dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
    }
  }

  async function* walk(dir: string, keyPrefix: string, partial: string): AsyncGenerator<BlobInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    // Sorting a folder by `name` for files and `name/` for folders yields whole keys in
    // byte order, as S3 lists them: `a-b` (0x2d) comes before `a/…` (0x2f).
    const children = entries
      .filter((e) => (e.isFile() || e.isDirectory()) && e.name.startsWith(partial))
      .filter((e) => isBlobKey(e.name))
      .map((e) => ({ name: e.name, folder: e.isDirectory() }))
      .sort((a, b) => compare(a.folder ? `${a.name}/` : a.name, b.folder ? `${b.name}/` : b.name));
    for (const child of children) {
      const path = join(dir, child.name);
      if (child.folder) {
        yield* walk(path, `${keyPrefix}${child.name}/`, '');
        continue;
      }
      const info = await stat(path).catch(nullIfMissing);
      if (info?.isFile()) {
        yield { key: keyPrefix + child.name, size: info.size, lastModified: info.mtime };
      }
    }
  }

  return {
    kind: 'disk',

    async put(key: string, body: BlobBody, options?: PutOptions): Promise<void> {
      const path = pathOf(key);
      const length = declaredLength(key, body, options);
      await commit(path, options?.contentType, async (temp) => {
        const file = await open(temp, 'wx');
        try {
          if (body instanceof Uint8Array) {
            await file.writeFile(body);
          } else {
            const reader = new BodyReader(key, body, length);
            try {
              for await (const chunk of reader.take(length)) await writeAll(file, chunk);
              await reader.end();
            } catch (error) {
              await reader.cancel(error);
              throw error;
            }
          }
          // Flushed before the rename, so a crash cannot leave a renamed but empty blob.
          await file.sync();
        } finally {
          await file.close();
        }
      });
    },

    async putFile(key: string, source: string, options?: PutFileOptions) {
      const path = pathOf(key);
      const info = await stat(source);
      if (!info.isFile()) {
        throw new Error(`putFile(${JSON.stringify(key)}): ${source} is not a file`);
      }
      await commit(path, options?.contentType, async (temp) => {
        // A file the caller gives up is renamed into place (an upload spooled under the same
        // data directory: no second copy of a 50 MB original). Across filesystems, or when the
        // caller keeps it, copyFile copies in the kernel (copy_file_range or a reflink).
        const moved =
          options?.move === true &&
          (await rename(source, temp).then(
            () => true,
            () => false,
          ));
        if (!moved) await copyFile(source, temp, constants.COPYFILE_EXCL);
        const file = await open(temp, 'r+');
        try {
          await file.sync();
        } finally {
          await file.close();
        }
      });
    },

    async get(key: string, options?: GetOptions): Promise<BlobObject | null> {
      const path = pathOf(key);
      const range = options?.range;
      if (range) checkRange(range);
      const file = await open(path, 'r').catch(nullIfMissing);
      if (!file) return null;
      try {
        // fstat of the open file: a rename that replaces the blob now cannot mix two versions.
        const info = await file.stat();
        if (!info.isFile()) {
          await file.close();
          return null;
        }
        if (range && range.start >= info.size) throw new BlobRangeError(key, info.size, range);
        const start = range?.start ?? 0;
        const end = Math.min(range?.end ?? info.size - 1, info.size - 1);
        return {
          key,
          size: info.size,
          contentType: await readContentType(path),
          lastModified: info.mtime,
          body: fileStream(file, start, end + 1),
          ...(range ? { range: { start, end } } : {}),
        };
      } catch (error) {
        await file.close();
        throw error;
      }
    },

    async head(key: string): Promise<BlobInfo | null> {
      const path = pathOf(key);
      const info = await stat(path).catch(nullIfMissing);
      if (!info?.isFile()) return null;
      return {
        key,
        size: info.size,
        contentType: await readContentType(path),
        lastModified: info.mtime,
      };
    },

    async delete(key: string): Promise<void> {
      const path = pathOf(key);
      try {
        await unlink(path);
      } catch (error) {
        // A folder of other blobs is no blob by this key (EISDIR on Linux, EPERM on macOS).
        const folder = isCode(error, 'EISDIR') || isCode(error, 'EPERM');
        if (!isMissing(error) && !(folder && (await stat(path)).isDirectory())) throw error;
      }
      await unlink(metaPath(path)).catch(ignoreMissing);
      await pruneEmptyParents(dirname(path));
    },

    list(prefix: string): AsyncIterable<BlobInfo> {
      assertBlobPrefix(prefix);
      const cut = prefix.lastIndexOf('/') + 1;
      const folder = prefix.slice(0, cut);
      return walk(join(root, ...folder.split('/').filter(Boolean)), folder, prefix.slice(cut));
    },

    async close(): Promise<void> {},
  };
}

async function readContentType(path: string): Promise<string | undefined> {
  const text = await readFile(metaPath(path), 'utf8').catch(nullIfMissing);
  if (text === null) return undefined;
  const meta: unknown = JSON.parse(text);
  const contentType = (meta as { contentType?: unknown }).contentType;
  return typeof contentType === 'string' ? contentType : undefined;
}

const sidePath = (path: string, suffix: string) =>
  join(dirname(path), `.${basename(path)}.${suffix}`);
const metaPath = (path: string) => sidePath(path, 'meta.json');

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const codeOf = (error: unknown) => String((error as { code?: unknown } | null)?.code);
const isCode = (error: unknown, code: string) => codeOf(error) === code;
const isMissing = (error: unknown) => MISSING.has(codeOf(error));

function nullIfMissing(error: unknown): null {
  if (isMissing(error)) return null;
  throw error;
}

function ignoreMissing(error: unknown): void {
  if (!isMissing(error)) throw error;
}
