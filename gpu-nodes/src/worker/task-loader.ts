import type { InferenceTaskName, ModelRef } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import type { ExecutionProvider } from '../inference/onnx-session.ts';
import { ModelUnavailableError } from '../models/model-files.ts';
import type { InferenceTask } from '../tasks/task.ts';

/** What every task factory is given. */
export interface TaskFactoryOptions {
  /** The directory holding `<model id>/` folders (AEX_MODEL_DIR). */
  modelDir: string;
  providers: readonly ExecutionProvider[];
  log: Logger;
}

/** A task whose model is loaded; faces and OCR also name their detector. */
export type LoadedTask = InferenceTask<unknown> & { readonly detector?: ModelRef };

/** Loads one task's models; rejects (ModelUnavailableError …) when it cannot. */
export type TaskFactory = (options: TaskFactoryOptions) => Promise<LoadedTask>;

/** A factory looked up by export name in a module beside the worker. */
interface FactoryRef {
  /** Relative to this file. */
  module: string;
  export: string;
}

/**
 * Where each task's factory lives. They are imported on demand and by name, so a task whose
 * module is not in this build (or not written yet) is skipped like one whose model is
 * missing, and a worker running only `tags` never loads the OCR or face code.
 */
export const TASK_FACTORIES: Record<InferenceTaskName, FactoryRef> = {
  tags: { module: './tags-task.ts', export: 'createTagsTask' },
  clip: { module: '../tasks/clip/mod.ts', export: 'createClipImageTask' },
  faces: { module: '../tasks/faces/mod.ts', export: 'createFacesTask' },
  ocr: { module: '../tasks/ocr/mod.ts', export: 'createOcrTask' },
};

/** The CLIP text encoder's factory (answers search queries over request/reply). */
export const TEXT_ENCODER_FACTORY: FactoryRef = {
  module: '../tasks/clip/mod.ts',
  export: 'createClipTextEncoder',
};

/** Resolves a factory export; throws `FactoryMissingError` when the module or export is absent. */
export async function importFactory<F>(ref: FactoryRef): Promise<F> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(new URL(ref.module, import.meta.url).href);
  } catch (err) {
    throw new FactoryMissingError(`${ref.module} cannot be loaded: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const factory = mod[ref.export];
  if (typeof factory !== 'function') {
    throw new FactoryMissingError(`${ref.module} has no ${ref.export}()`);
  }
  return factory as F;
}

/** A task's code is not part of this build. */
export class FactoryMissingError extends Error {
  override name = 'FactoryMissingError';
}

/**
 * Loads the named tasks, each on its own: one whose code or model is missing, or whose model
 * no provider can open, is skipped with one warning that says why and what to do (DESIGN.md:
 * "a worker whose model cannot be had says so once, clearly, and skips that task").
 */
export async function loadTasks(
  names: readonly InferenceTaskName[],
  options: TaskFactoryOptions & { factories?: Partial<Record<InferenceTaskName, TaskFactory>> },
): Promise<LoadedTask[]> {
  const loaded: LoadedTask[] = [];
  for (const name of names) {
    const log = options.log.child({ task: name });
    try {
      const factory =
        options.factories?.[name] ?? (await importFactory<TaskFactory>(TASK_FACTORIES[name]));
      const task = await factory({ modelDir: options.modelDir, providers: options.providers, log });
      try {
        assertTask(name, task);
      } catch (err) {
        await task?.close?.().catch(() => undefined);
        throw err;
      }
      loaded.push(task);
    } catch (err) {
      options.log.warn(
        { task: name, modelDir: options.modelDir, err: (err as Error).message },
        skipLine(name, err),
      );
    }
  }
  return loaded;
}

/** The one line a skipped task logs. */
export function skipLine(name: string, err: unknown): string {
  if (err instanceof FactoryMissingError) return `${name} task skipped: not part of this build`;
  if (err instanceof ModelUnavailableError) {
    return `${name} task skipped: its model is not available (set AEX_MODEL_DIR or pull the model)`;
  }
  return `${name} task skipped: its model could not be loaded`;
}

function assertTask(name: InferenceTaskName, task: LoadedTask): void {
  const ok =
    typeof task?.run === 'function' &&
    Number.isInteger(task.maxBatch) &&
    task.maxBatch >= 1 &&
    typeof task.model?.id === 'string' &&
    ((name !== 'faces' && name !== 'ocr') || typeof task.detector?.id === 'string');
  if (!ok) throw new Error(`the ${name} factory did not return an InferenceTask`);
}
