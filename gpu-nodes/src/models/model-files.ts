import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
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
 * Resolves `entry`'s files and checks each one's sha256 against the registry.
 * @throws ModelUnavailableError naming every missing file and every checksum mismatch.
 */
export async function verifyModelFiles(
  entry: ModelEntry,
  modelDir: string,
): Promise<ResolvedModelFile[]> {
  const files = await resolveModelFiles(entry, modelDir);
  const digests = await Promise.all(files.map((file) => sha256File(file.path)));
  const problems = files.flatMap((file, i) =>
    // A null checksum is pinned on first pull (models/pull.ts), not checked here.
    file.sha256 === null || digests[i] === file.sha256
      ? []
      : [`${file.name} has sha256 ${digests[i]}, expected ${file.sha256}`],
  );
  if (problems.length > 0) {
    throw new ModelUnavailableError(entry.id, resolve(modelDir, entry.id), problems);
  }
  return files;
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

// Streamed: CLIP and OCR weights run to hundreds of megabytes, which need not sit in memory.
async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
