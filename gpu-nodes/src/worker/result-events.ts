import {
  type AexEvent,
  type DetectedFace,
  deterministicId,
  type ImageEmbeddingComputed,
  type ImageFacesDetected,
  type ImageTagsComputed,
  type ImageTextRecognized,
  type ModelRef,
  makeEvent,
  type RecognizedLine,
  Subjects,
  type TagScore,
} from '@aex/shared';
import type { LoadedTask } from './task-loader.ts';

/** The image a job is about, and the event that asked for it. */
export interface JobImage {
  /** Id of the `aex.image.ingested` or `aex.image.reindex.requested` event. */
  sourceId: string;
  imageId: string;
  previewKey: string;
}

/**
 * The result event of one image. Its id is derived from the consumer, the job's event and the
 * model, so a redelivered job (a worker died before its ack) publishes the same id again and
 * the bus drops it as a duplicate (`Nats-Msg-Id`): one result per job and model, however many
 * workers touched it.
 */
export function resultEvent(
  task: LoadedTask,
  durable: string,
  image: JobImage,
  result: unknown,
): AexEvent {
  const model = task.model;
  const common = {
    id: deterministicId(durable, image.sourceId, model.id, model.version),
    imageId: image.imageId,
    model,
  };
  switch (task.name) {
    case 'tags':
      return makeEvent<ImageTagsComputed>({
        ...common,
        type: Subjects.imageTagsComputed,
        tags: result as TagScore[],
      });
    case 'clip':
      return makeEvent<ImageEmbeddingComputed>({
        ...common,
        type: Subjects.imageEmbeddingComputed,
        // A Float32Array from the session becomes the plain array the JSON event carries.
        vector: Array.from(result as ArrayLike<number>),
      });
    case 'faces':
      return makeEvent<ImageFacesDetected>({
        ...common,
        type: Subjects.imageFacesDetected,
        detector: task.detector as ModelRef,
        faces: result as DetectedFace[],
      });
    case 'ocr':
      return makeEvent<ImageTextRecognized>({
        ...common,
        type: Subjects.imageTextRecognized,
        detector: task.detector as ModelRef,
        lines: result as RecognizedLine[],
      });
  }
}
