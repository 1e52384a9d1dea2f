import type { InferenceTaskName, ModelRef } from '@aex/shared';
import type { ExecutionProvider } from '../inference/onnx-session.ts';

/** One image's outcome: a result, or why this image has none (it fails alone). */
export type TaskOutcome<R> = { ok: true; result: R } | { ok: false; error: string };

/**
 * A loaded model that turns images into results. Every task (tags, CLIP, faces, OCR) has this
 * shape, so the worker batches, runs and reports them all the same way.
 */
export interface InferenceTask<R> {
  readonly name: InferenceTaskName;
  /** The model its results are keyed by. */
  readonly model: ModelRef;
  /** The execution provider its main session runs on. */
  readonly provider: ExecutionProvider;
  /** Most images one `run` takes (one batched session run, or a few for detectors). */
  readonly maxBatch: number;
  /**
   * Results for `images` (encoded previews), index-aligned. An image that cannot be decoded
   * or processed fails alone; a failure of the model itself rejects the whole call.
   */
  run(images: readonly Uint8Array[]): Promise<Array<TaskOutcome<R>>>;
  close(): Promise<void>;
}
