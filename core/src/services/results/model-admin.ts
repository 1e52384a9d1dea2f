import {
  AexError,
  type ImageReindexRequested,
  type InferenceTaskName,
  type ModelRef,
  makeEvent,
  Subjects,
  InferenceTaskName as TaskNames,
} from '@aex/shared';
import type { TaskModelsRepository } from '../../db/task-models-repository.ts';

/** How far a model version's results cover the images. */
export interface Coverage {
  images: number;
  covered: number;
  complete: boolean;
}

/** One task: the version it serves, and every version with results. */
export interface TaskStatus {
  task: InferenceTaskName;
  active: (ModelRef & { activatedAt: string }) | null;
  versions: Array<{ model: ModelRef; images: number; complete: boolean }>;
}

/** What one reindex batch queued; pass `next` as `after` for the next batch (null: done). */
export interface ReindexBatch {
  task: InferenceTaskName;
  model: ModelRef;
  queued: number;
  next: string | null;
}

/** The most images one reindex batch queues. */
export const MAX_REINDEX_BATCH = 5000;

/**
 * Model swaps without downtime (Immich #10496): a new version's results are computed beside
 * the active one's (`aex reindex` queues every image lacking them), and the API switches to
 * it only when it covers every image (`activate`), or when told to (`force`).
 */
export class ModelAdminService {
  constructor(
    private readonly deps: {
      taskModels: TaskModelsRepository;
      /** Called after events were written to the outbox (the relay publishes them). */
      onQueued: () => void;
    },
  ) {}

  /** Every task's active version and the versions with results, with their coverage. */
  async status(): Promise<{ images: number; tasks: TaskStatus[] }> {
    const { taskModels } = this.deps;
    const [images, active, versions] = await Promise.all([
      taskModels.imageCount(),
      taskModels.active(),
      taskModels.versions(),
    ]);
    return {
      images,
      tasks: TaskNames.options.map((task) => {
        const a = active.find((x) => x.task === task);
        return {
          task,
          active: a ? { ...a.model, activatedAt: a.activatedAt.toISOString() } : null,
          versions: versions
            .filter((v) => v.task === task)
            .map((v) => ({ model: v.model, images: v.images, complete: v.images >= images })),
        };
      }),
    };
  }

  async coverage(task: InferenceTaskName, model: ModelRef): Promise<Coverage> {
    const [images, covered] = await Promise.all([
      this.deps.taskModels.imageCount(),
      this.deps.taskModels.covered(task, model),
    ]);
    return { images, covered, complete: covered >= images };
  }

  /**
   * Makes `model` the version `task` serves. Refused (409) while it lacks results for some
   * images, which would lose their tags, faces, text or search hits, unless `force`.
   */
  async activate(
    task: InferenceTaskName,
    model: ModelRef,
    options: { force?: boolean } = {},
  ): Promise<{
    task: InferenceTaskName;
    model: ModelRef;
    activatedAt: string;
    coverage: Coverage;
  }> {
    const coverage = await this.coverage(task, model);
    if (!options.force && !coverage.complete) {
      throw new AexError(
        'conflict',
        `${model.id}@${model.version} has ${task} results for ${coverage.covered} of ` +
          `${coverage.images} images. Run \`aex reindex --task ${task} --model ${model.id}@${model.version}\` ` +
          'and activate when it is done, or pass force to switch anyway.',
      );
    }
    const active = await this.deps.taskModels.activate(task, model);
    return { task, model, activatedAt: active.activatedAt.toISOString(), coverage };
  }

  /**
   * Queues `aex.image.reindex.requested` for up to `limit` images, in id order after `after`,
   * that lack a result of `model` (default: the active version, which repairs gaps). The
   * events go through the outbox, so none is lost if core stops; results already computed are
   * never queued again, so running it twice is harmless.
   */
  async queueReindex(
    task: InferenceTaskName,
    model: ModelRef | undefined,
    options: { after?: string; limit?: number } = {},
  ): Promise<ReindexBatch> {
    const target =
      model ?? (await this.deps.taskModels.active()).find((a) => a.task === task)?.model;
    if (!target) {
      throw new AexError(
        'invalid_input',
        `No model serves ${task} yet: name the model version to compute (model: {id, version}).`,
      );
    }
    const limit = Math.min(options.limit ?? 1000, MAX_REINDEX_BATCH);
    const lacking = await this.deps.taskModels.lacking(task, target, {
      after: options.after,
      limit,
    });
    await this.deps.taskModels.enqueue(
      lacking.map((image) =>
        makeEvent<ImageReindexRequested>({
          type: Subjects.imageReindexRequested,
          imageId: image.id,
          task,
          sha256: image.sha256,
          previewKey: image.previewKey,
        }),
      ),
    );
    if (lacking.length > 0) this.deps.onQueued();
    return {
      task,
      model: target,
      queued: lacking.length,
      next: lacking.length === limit ? (lacking.at(-1)?.id ?? null) : null,
    };
  }
}
