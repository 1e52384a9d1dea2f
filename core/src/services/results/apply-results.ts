import type {
  ImageEmbeddingComputed,
  ImageFacesDetected,
  ImageTextRecognized,
  ModelRef,
} from '@aex/shared';
import type { JobOutcome } from '@aex/shared/ports/event-bus/run-consumer';
import type { ApplyStatus, ResultsRepository } from '../../db/results-repository.ts';
import { VectorIndexError } from '../../vector/vector-index.ts';
import { faceId, MAX_FACES, type ResultVectors } from './result-vectors.ts';

/** What the result consumers work with. `vectors` is null where none can be stored. */
export interface ResultDeps {
  results: ResultsRepository;
  vectors: ResultVectors | null;
}

/** Maps what a write did onto the consumer's outcome. */
export function outcomeOf(status: ApplyStatus, imageId: string, model: ModelRef): JobOutcome {
  if (status === 'image_missing') {
    // Deleted before its result arrived: nothing to record, and retrying will not change that.
    return { status: 'skipped', reason: `image ${imageId} no longer exists` };
  }
  if (status === 'stale') {
    return {
      status: 'skipped',
      reason: `a newer result of ${model.id}@${model.version} is already applied to ${imageId}`,
    };
  }
  return { status: 'success' };
}

/**
 * Records an image embedding: the coverage row first (it locks the image, so a deleted image
 * is skipped before anything is stored), then the vector under the image's id. A crash in
 * between redelivers the event, which writes both again. If the image was deleted while the
 * vector was written, the vector goes too: the deletion's own consumer may have run already.
 */
export async function applyEmbeddingComputed(
  deps: ResultDeps,
  event: ImageEmbeddingComputed,
): Promise<JobOutcome> {
  const { results, vectors } = deps;
  if (!vectors) {
    // Not recorded as covered either: once a vector store exists, reindex finds these images.
    return { status: 'skipped', reason: 'no vector store on this deployment (see the start log)' };
  }
  const status = await results.recordEmbedding(
    event.imageId,
    event.model,
    new Date(event.occurredAt),
  );
  if (status !== 'applied') return outcomeOf(status, event.imageId, event.model);
  return withVectorErrors(async () => {
    const collection = await vectors.collection(event.model, event.vector.length);
    await collection.upsert([{ id: event.imageId, vector: event.vector }]);
    if (!(await results.imageExists(event.imageId))) {
      await collection.delete([event.imageId]);
      return outcomeOf('image_missing', event.imageId, event.model);
    }
    return { status: 'success' };
  });
}

/**
 * Records an image's faces from one embedder: rows (box, landmarks, score) replace that
 * version's previous ones, then the embeddings replace its previous vectors. Face ids are
 * derived from the image, the model and the face's place in the result, so applying the same
 * result twice leaves the same rows and vectors.
 */
export async function applyFacesDetected(
  deps: ResultDeps,
  event: ImageFacesDetected,
): Promise<JobOutcome> {
  const { results, vectors } = deps;
  const faces = event.faces.slice(0, MAX_FACES);
  const { status, vectorBound } = await results.replaceFaces(
    event.imageId,
    event.model,
    event.detector,
    faces.map((f, i) => ({
      id: faceId(event.imageId, event.model, i),
      box: f.box,
      landmarks: f.landmarks as Array<[number, number]>,
      score: f.score,
    })),
    new Date(event.occurredAt),
  );
  if (status !== 'applied' || !vectors) return outcomeOf(status, event.imageId, event.model);
  return withVectorErrors(async () => {
    await vectors.replaceFaces(
      event.imageId,
      event.model,
      faces.map((f) => f.embedding),
      vectorBound,
    );
    if (!(await results.imageExists(event.imageId))) {
      await vectors.replaceFaces(event.imageId, event.model, [], vectorBound);
      return outcomeOf('image_missing', event.imageId, event.model);
    }
    return { status: 'success' };
  });
}

/** Records the lines of text one recogniser read in an image, replacing that version's. */
export async function applyTextRecognized(
  deps: Pick<ResultDeps, 'results'>,
  event: ImageTextRecognized,
): Promise<JobOutcome> {
  const status = await deps.results.replaceText(
    event.imageId,
    event.model,
    event.lines.map((l) => ({
      text: l.text,
      confidence: l.confidence,
      polygon: l.polygon as Array<[number, number]>,
    })),
    new Date(event.occurredAt),
  );
  return outcomeOf(status, event.imageId, event.model);
}

/**
 * A vector the index refuses (a dimension other than the version's collection's, a zero
 * vector) is refused on every retry: dead-lettered with the reason. The port raises those as
 * a `VectorIndexError` of its own; one with a `cause` wraps a driver's failure (the store
 * down), which is thrown on so the bus retries with backoff.
 */
async function withVectorErrors(work: () => Promise<JobOutcome>): Promise<JobOutcome> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof VectorIndexError && err.cause === undefined) {
      return { status: 'failed', reason: err.message };
    }
    throw err;
  }
}
