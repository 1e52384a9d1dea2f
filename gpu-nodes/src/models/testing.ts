import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelUnavailableError, type ResolvedModelFile, resolveModelFiles } from './model-files.ts';
import { getModelEntry } from './registry.ts';

// Test support for suites that need real weights or fixture images: they skip, and say so in
// their title, when either is missing (a suite that cannot run must not report a pass).

/** The shared fixture images beside the repository (`../shared/fixtures/images`). */
export const FIXTURE_IMAGES = resolve(import.meta.dir, '../../../../shared/fixtures/images');

/** Whether the fixture images are on this machine. */
export const fixturesAvailable = existsSync(resolve(FIXTURE_IMAGES, 'objects'));

/** A model's files under AEX_MODEL_DIR, or why they cannot be used. */
export type TestModel =
  | { available: true; modelDir: string; files: ResolvedModelFile[] }
  | { available: false; reason: string };

/** Looks up `id`'s files under AEX_MODEL_DIR (which the test preload sets when it can). */
export async function testModel(id: string): Promise<TestModel> {
  const modelDir = process.env.AEX_MODEL_DIR;
  if (!modelDir) return { available: false, reason: 'AEX_MODEL_DIR is not set' };
  try {
    return {
      available: true,
      modelDir,
      files: await resolveModelFiles(getModelEntry(id), modelDir),
    };
  } catch (err) {
    const problems = err instanceof ModelUnavailableError ? err.problems : [(err as Error).message];
    return {
      available: false,
      reason: `${id} in AEX_MODEL_DIR=${modelDir}: ${problems.join('; ')}`,
    };
  }
}

/** A suite title that says why the suite is skipped. */
export function modelSuiteName(name: string, model: TestModel, needsFixtures = false): string {
  if (!model.available) return `${name} (skipped: ${model.reason})`;
  if (needsFixtures && !fixturesAvailable) {
    return `${name} (skipped: no fixture images at ${FIXTURE_IMAGES})`;
  }
  return name;
}

/** Whether a suite titled by `modelSuiteName` must be skipped. */
export function mustSkip(model: TestModel, needsFixtures = false): boolean {
  return !model.available || (needsFixtures && !fixturesAvailable);
}

/** Reads a fixture image, e.g. `objects/cat.jpg`. */
export async function fixture(path: string): Promise<Uint8Array> {
  return new Uint8Array(await Bun.file(resolve(FIXTURE_IMAGES, path)).arrayBuffer());
}
