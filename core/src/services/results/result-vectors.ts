import { deterministicId, MAX_FACES_PER_RESULT, type ModelRef } from '@aex/shared';
import type { VectorCollection, VectorIndex } from '../../vector/vector-index.ts';

/** The most faces one result may carry. */
export const MAX_FACES = MAX_FACES_PER_RESULT;

/**
 * The id of an image's `index`-th face from one embedder. Derived, not random: the same result
 * applied twice gives the same rows and vector ids, and every id a face of this image and
 * model could have is known without reading anything (which is what makes replacing and
 * deleting face vectors safe to retry, see `ResultVectors.replaceFaces`).
 */
export function faceId(imageId: string, model: ModelRef, index: number): string {
  return deterministicId('aex.face', imageId, model.id, model.version, String(index));
}

// How long the list of collections is trusted when removing a deleted image's vectors:
// collections appear only when a new model version delivers its first result.
const COLLECTIONS_TTL_MS = 60_000;

/**
 * Where inference results' vectors go: one cosine collection per model version (the vector
 * index port), image embeddings under the image's id and face embeddings under `faceId`.
 */
export class ResultVectors {
  private readonly collections = new Map<string, Promise<VectorCollection>>();
  private known: { at: number; list: Spec[] } | undefined;

  constructor(readonly index: VectorIndex) {}

  /** The model version's collection of `dimension`-d vectors, created when missing. */
  collection(model: ModelRef, dimension: number): Promise<VectorCollection> {
    const key = JSON.stringify([model.id, model.version, dimension]);
    let collection = this.collections.get(key);
    if (!collection) {
      collection = this.index.collection({ model, dimension, metric: 'cosine' });
      // A failure (a dimension conflict, the store down) is not remembered: the next call asks again.
      collection.then(
        () => {
          const listed = this.known?.list;
          if (
            listed &&
            !listed.some((s) => s.model.id === model.id && s.model.version === model.version)
          ) {
            listed.push({ model, dimension });
          }
        },
        () => this.collections.delete(key),
      );
      this.collections.set(key, collection);
    }
    return collection;
  }

  /** The stored vector of `id` in the model version's collection, or null. */
  async read(model: ModelRef, id: string): Promise<Float32Array | null> {
    const collection = await this.existing(model);
    if (!collection) return null;
    const [found] = await collection.get([id]);
    return found?.vector ?? null;
  }

  /**
   * Stores an image's faces as ids `faceId(…, 0…n−1)` and deletes the ids from n up to `bound`:
   * the results row's `faceVectorBound`, which covers every face vector this version may hold
   * for the image (the rows are written, and the bound raised, before the vectors). However
   * often this runs (a retry after a crash between the rows and the vectors), no old face
   * vector survives. Measured with pgvector in PGlite: deleting all 1,000 ids a result could
   * use cost ~26 ms of CPU per image, most of the worker's plumbing in the inference benchmark.
   */
  async replaceFaces(
    imageId: string,
    model: ModelRef,
    embeddings: number[][],
    bound: number = MAX_FACES,
  ): Promise<void> {
    const first = embeddings[0];
    const end = Math.min(MAX_FACES, Math.max(bound, embeddings.length));
    const stale = Array.from({ length: end - embeddings.length }, (_, i) =>
      faceId(imageId, model, embeddings.length + i),
    );
    if (!first) {
      if (stale.length === 0) return;
      const existing = await this.existing(model);
      if (existing) await existing.delete(stale);
      return;
    }
    const collection = await this.collection(model, first.length);
    await collection.upsert(
      embeddings.map((vector, i) => ({ id: faceId(imageId, model, i), vector })),
    );
    if (stale.length > 0) await collection.delete(stale);
  }

  /**
   * Removes a deleted image's vectors from every collection: its embedding and every face id it
   * could have had. Its result rows are gone by then (ON DELETE CASCADE), so which collections
   * hold something is not known; trying them all costs one delete per model version.
   */
  async removeImage(imageId: string): Promise<void> {
    for (const { model, dimension } of await this.listed()) {
      const collection = await this.collection(model, dimension);
      await collection.delete([
        imageId,
        ...Array.from({ length: MAX_FACES }, (_, i) => faceId(imageId, model, i)),
      ]);
    }
  }

  /** The model version's collection if it exists, whatever its dimension. */
  async existing(model: ModelRef): Promise<VectorCollection | null> {
    const find = (list: Spec[]) =>
      list.find((s) => s.model.id === model.id && s.model.version === model.version);
    const spec = find(await this.listed()) ?? find(await this.listed(true));
    return spec ? this.collection(model, spec.dimension) : null;
  }

  /** The collections' specs, cached for a minute (the port's list also counts every row). */
  private async listed(fresh = false): Promise<Spec[]> {
    if (!fresh && this.known && Date.now() - this.known.at < COLLECTIONS_TTL_MS) {
      return this.known.list;
    }
    const list = (await this.index.listCollections()).map((c) => ({
      model: c.spec.model,
      dimension: c.spec.dimension,
    }));
    this.known = { at: Date.now(), list };
    return list;
  }
}

interface Spec {
  model: ModelRef;
  dimension: number;
}
