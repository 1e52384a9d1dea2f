import {
  AexError,
  type Image,
  type ModelRef,
  type SearchQuery,
  type SearchResults,
} from '@aex/shared';
import type { ImageRepository } from '../db/image-repository.ts';
import type { TaskModelsRepository } from '../db/task-models-repository.ts';
import type { TextSearchRepository } from '../db/text-search-repository.ts';
import type { ImageQueryService } from './image-queries.ts';
import type { ActiveResults } from './results/active-results.ts';
import type { ResultVectors } from './results/result-vectors.ts';
import type { TextEmbedder } from './results/text-embedder.ts';

/** Images matching a `text` filter that a vector search is narrowed to, at most. */
const TEXT_FILTER_CAP = 10_000;

export interface SearchDeps {
  /** Null where no vector store is available; `vectorsMissing` says why. */
  vectors: ResultVectors | null;
  vectorsMissing?: string;
  embedder: Pick<TextEmbedder, 'embed'>;
  active: Pick<ActiveResults, 'activeModels'>;
  taskModels: Pick<TaskModelsRepository, 'hasResult'>;
  images: Pick<ImageRepository, 'findById' | 'findByIds'>;
  queries: Pick<ImageQueryService, 'dtos'>;
  text: Pick<TextSearchRepository, 'search'>;
}

interface Scored {
  id: string;
  score: number;
}

/**
 * Search with a relevance score on every hit (Immich #5996): by meaning (`q`: the query's CLIP
 * text embedding against the images' CLIP embeddings, cosine similarity), by likeness to an
 * image (`similarTo`: its own embedding as the query, PhotoPrism #4497), and by the words read
 * in the photos (`text`, full text over OCR lines), alone or narrowing either of the others.
 * Only the active model versions are searched, so a model being re-indexed never shows.
 */
export class SearchService {
  constructor(private readonly deps: SearchDeps) {}

  async search(query: SearchQuery): Promise<SearchResults> {
    const { q, similarTo, text, limit, minScore } = query;
    if (q !== undefined && similarTo !== undefined) {
      throw new AexError('invalid_input', 'Give q (words) or similarTo (an image id), not both.');
    }
    if (q === undefined && similarTo === undefined && text === undefined) {
      throw new AexError(
        'invalid_input',
        'Say what to search for: q (what the photo shows), similarTo (an image id) or text (words in the photo).',
      );
    }
    const active = await this.deps.active.activeModels();
    let textMatches: Scored[] | undefined;
    if (text !== undefined) {
      if (!active.ocr) {
        throw new AexError(
          'conflict',
          'No image has had its text read yet: text search works once a worker with the OCR model has processed images.',
        );
      }
      const vectorSearch = q !== undefined || similarTo !== undefined;
      const matches = await this.deps.text.search(
        text,
        active.ocr,
        vectorSearch ? TEXT_FILTER_CAP : limit,
      );
      textMatches = matches.map((m) => ({ id: m.imageId, score: m.rank }));
      if (!vectorSearch) return this.results(textMatches, minScore, limit, active.ocr);
    }
    const clip = active.clip;
    const vectors = this.deps.vectors;
    if (!vectors) {
      throw new AexError(
        'unavailable',
        `Search by meaning is unavailable on this deployment: ${this.deps.vectorsMissing ?? 'no vector store'}`,
      );
    }
    if (!clip) {
      throw new AexError(
        'conflict',
        'No image has a CLIP embedding yet: search by meaning works once a worker with the CLIP model has processed images.',
      );
    }
    const vector =
      similarTo !== undefined
        ? await this.imageVector(similarTo, clip, vectors)
        : await this.deps.embedder.embed(q as string, clip);
    const collection = await vectors.existing(clip);
    if (!collection || collection.spec.dimension !== vector.length) {
      throw new AexError(
        'unavailable',
        `The query embedding has ${vector.length} values; ${clip.id}@${clip.version}'s vectors ` +
          `have ${collection?.spec.dimension ?? 'none stored'}. Check the workers' CLIP model.`,
      );
    }
    if (textMatches?.length === 0) return { items: [], model: clip };
    // One more than asked when the query image is among the hits: it is left out.
    const k = limit + (similarTo === undefined ? 0 : 1);
    const hits = await collection.search(vector, {
      k,
      filter: textMatches ? { ids: textMatches.map((m) => m.id) } : undefined,
    });
    return this.results(
      hits.filter((h) => h.id !== similarTo),
      minScore,
      limit,
      clip,
    );
  }

  /** The stored embedding of an image, for reverse image search. */
  private async imageVector(
    imageId: string,
    clip: ModelRef,
    vectors: ResultVectors,
  ): Promise<Float32Array> {
    if (!(await this.deps.images.findById(imageId))) {
      throw new AexError('not_found', `No image with id ${imageId}.`);
    }
    const stored = (await this.deps.taskModels.hasResult(imageId, 'clip', clip))
      ? await vectors.read(clip, imageId)
      : null;
    if (!stored) {
      throw new AexError(
        'conflict',
        `Image ${imageId} has no embedding from ${clip.id}@${clip.version} yet; try again once a worker has processed it.`,
      );
    }
    return stored;
  }

  /** Hits above `minScore`, best first, as images (ones deleted meanwhile are left out). */
  private async results(
    hits: Scored[],
    minScore: number | undefined,
    limit: number,
    model: ModelRef,
  ): Promise<SearchResults> {
    const kept = hits.filter((h) => minScore === undefined || h.score >= minScore).slice(0, limit);
    const rows = new Map(
      (await this.deps.images.findByIds(kept.map((h) => h.id))).map((r) => [r.id, r]),
    );
    const found = kept.flatMap((h) => {
      const row = rows.get(h.id);
      return row ? [{ row, score: h.score }] : [];
    });
    const images = await this.deps.queries.dtos(found.map((f) => f.row));
    return {
      items: found.map((f, i) => ({ image: images[i] as Image, score: f.score })),
      model,
    };
  }
}
