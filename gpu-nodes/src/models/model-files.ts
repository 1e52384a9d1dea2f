import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ModelEntry, ModelFile } from './registry.ts';

/**
 * A model whose files are not on this machine, or not the bytes the registry names. A worker
 * reports it once and skips the task (DESIGN.md, "Models").
 */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
  constructor(
    readonly modelId: string,
    readonly dir: string,
    /** What is wrong, one line per file. */
    readonly problems: readonly string[],
  ) {
    super(
      `model ${modelId} is not usable from ${dir}: ${problems.join('; ')}. ` +
        `Run \`aex models pull ${modelId}\` or set AEX_MODEL_DIR to a directory that holds ${modelId}/`,
    );
  }
}

/** A registry file with its absolute path on this machine. */
export interface ResolvedModelFile extends ModelFile {
  path: string;
}

/**
 * Absolute paths of `entry`'s files, `<modelDir>/<id>/<name>`, in registry order.
 * @throws ModelUnavailableError naming every missing or empty file.
 */
export async function resolveModelFiles(
  entry: ModelEntry,
  modelDir: string,
): Promise<ResolvedModelFile[]> {
  const dir = resolve(modelDir, entry.id);
  const files = entry.files.map((file) => ({
    ...file,
    path: (file.npm && installedNpmFile(file.npm)) ?? join(dir, file.name),
  }));
  const problems: string[] = [];
  for (const file of files) {
    const info = await stat(file.path).catch(() => undefined);
    if (!info?.isFile()) problems.push(`${file.name} is missing`);
    else if (info.size === 0) problems.push(`${file.name} is empty`);
    else if (file.bytes !== undefined && info.size !== file.bytes) {
      problems.push(`${file.name} has ${info.size} bytes, expected ${file.bytes}`);
    }
  }
  if (problems.length > 0) throw new ModelUnavailableError(entry.id, dir, problems);
  return files;
}

/**
 * Resolves `entry`'s files and checks each one's sha256 against the registry or, for a file
 * the registry has no checksum for, against the sum pinned in the model folder's lock file
 * when it was first pulled. A file with neither (put there by hand, never pulled) is not
 * checked.
 * @throws ModelUnavailableError naming every missing file, every checksum mismatch and an
 *   unreadable lock file.
 */
export async function verifyModelFiles(
  entry: ModelEntry,
  modelDir: string,
): Promise<ResolvedModelFile[]> {
  const files = await resolveModelFiles(entry, modelDir);
  const dir = resolve(modelDir, entry.id);
  let pins: ModelPins;
  try {
    pins = await readModelPins(entry, modelDir);
  } catch (err) {
    throw new ModelUnavailableError(entry.id, dir, [(err as Error).message]);
  }
  const digests = await Promise.all(files.map((file) => sha256File(file.path)));
  const problems = files.flatMap((file, i) => {
    const pinned = file.sha256 === null ? pins.get(file.name)?.sha256 : undefined;
    const expected = file.sha256 ?? pinned;
    if (expected === undefined || digests[i] === expected) return [];
    return [
      `${file.name} has sha256 ${digests[i]}, expected ${expected}` +
        (pinned ? ` (pinned in ${MODEL_LOCK_FILE} by its first pull)` : ''),
    ];
  });
  if (problems.length > 0) throw new ModelUnavailableError(entry.id, dir, problems);
  return files;
}

/** The lock file in each model folder: the sums pinned by first pulls (`aex models pull`). */
export const MODEL_LOCK_FILE = 'models.lock.json';

/** What a first pull recorded about one file. */
export const ModelPin = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  pinnedAt: z.string(),
  /** Where the bytes came from, for the record. */
  url: z.string().optional(),
});
export type ModelPin = z.infer<typeof ModelPin>;

const ModelLock = z.object({
  model: z.string(),
  /** Pins hold for this registry version only: new weights come with a new version. */
  version: z.string(),
  files: z.record(z.string(), ModelPin),
});
type ModelLock = z.infer<typeof ModelLock>;

/** Pinned sums by file name. */
export type ModelPins = ReadonlyMap<string, ModelPin>;

/**
 * The pins of `entry` in `<modelDir>/<id>/models.lock.json`; empty when there is no lock file
 * or it was written for another version of the model.
 * @throws Error naming the file if it exists but cannot be read as a lock file.
 */
export async function readModelPins(entry: ModelEntry, modelDir: string): Promise<ModelPins> {
  const lock = await readLock(join(resolve(modelDir, entry.id), MODEL_LOCK_FILE));
  if (!lock || lock.model !== entry.id || lock.version !== entry.version) return new Map();
  return new Map(Object.entries(lock.files));
}

/**
 * Records `pins` for `entry` in its lock file (read, merge, write to a temporary file, rename:
 * a crash never leaves half a lock). Pins of another version are dropped.
 */
export async function writeModelPins(
  entry: ModelEntry,
  modelDir: string,
  pins: Readonly<Record<string, ModelPin>>,
): Promise<void> {
  const dir = resolve(modelDir, entry.id);
  await mkdir(dir, { recursive: true });
  const path = join(dir, MODEL_LOCK_FILE);
  const old = await readLock(path);
  const kept = old && old.model === entry.id && old.version === entry.version ? old.files : {};
  const lock: ModelLock = {
    model: entry.id,
    version: entry.version,
    files: { ...kept, ...pins },
  };
  const temp = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(lock, null, 2)}\n`);
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

async function readLock(path: string): Promise<ModelLock | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return ModelLock.parse(JSON.parse(text));
  } catch (err) {
    throw new Error(
      `${path} is not a valid lock file (${(err as Error).message.split('\n')[0]}); ` +
        'delete it and pull again to re-pin',
      { cause: err },
    );
  }
}

/**
 * The path of a file inside an installed npm package of the promised version, or null.
 * Found the way Node's resolver finds packages (`node_modules` of this folder and every
 * parent), since packages may hide their files behind `exports`.
 */
export function installedNpmFile(npm: {
  package: string;
  version: string;
  path: string;
}): string | null {
  for (let dir = import.meta.dir; ; dir = dirname(dir)) {
    const root = join(dir, 'node_modules', npm.package);
    const manifest = join(root, 'package.json');
    if (existsSync(manifest)) {
      const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string };
      const path = join(root, npm.path);
      return version === npm.version && existsSync(path) ? path : null;
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The file of `role` among resolved files; the registry guarantees exactly one model file. */
export function fileWithRole(
  files: readonly ResolvedModelFile[],
  role: ModelFile['role'],
): ResolvedModelFile {
  const file = files.find((f) => f.role === role);
  if (!file) throw new Error(`the model has no ${role} file in the registry`);
  return file;
}

/** A file's sha256, streamed: CLIP and OCR weights run to hundreds of megabytes. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
