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
/**
 * Public search narrows the vector search to the public images' ids while there are at most
 * this many; past that, public images are common enough that the nearest `PUBLIC_OVERSAMPLE`
 * hits hold enough of them, and the others are dropped after the search.
 */
const PUBLIC_FILTER_CAP = 10_000;
const PUBLIC_OVERSAMPLE = 1000;

/** Whose images a search sees: the whole library (signed-in users) or only public ones (anyone). */
export type SearchScope = 'library' | 'public';

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
  /** The ids of public images, at most `limit` (public search). */
  publicIds: (limit: number) => Promise<string[]>;
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

  /**
   * `scope: 'public'` never looks at an internal image: an internal `similarTo` is "not
   * found", text and vector matches are narrowed to public images, and the hits are checked
   * once more before they are returned.
   */
  async search(query: SearchQuery, scope: SearchScope = 'library'): Promise<SearchResults> {
    const { q, similarTo, text, limit, minScore } = query;
    const publicOnly = scope === 'public';
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
        { publicOnly },
      );
      textMatches = matches.map((m) => ({ id: m.imageId, score: m.rank }));
      if (!vectorSearch) return this.results(textMatches, minScore, limit, active.ocr, scope);
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
        ? await this.imageVector(similarTo, clip, vectors, scope)
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
    let k = limit + (similarTo === undefined ? 0 : 1);
    let ids = textMatches?.map((m) => m.id);
    if (publicOnly && !ids) {
      const publicIds = await this.deps.publicIds(PUBLIC_FILTER_CAP + 1);
      if (publicIds.length <= PUBLIC_FILTER_CAP) ids = publicIds;
      else k = Math.max(k, PUBLIC_OVERSAMPLE);
    }
    if (ids?.length === 0) return { items: [], model: clip };
    const hits = await collection.search(vector, { k, filter: ids ? { ids } : undefined });
    return this.results(
      hits.filter((h) => h.id !== similarTo),
      minScore,
      limit,
      clip,
      scope,
    );
  }

  /** The stored embedding of an image, for reverse image search. */
  private async imageVector(
    imageId: string,
    clip: ModelRef,
    vectors: ResultVectors,
    scope: SearchScope,
  ): Promise<Float32Array> {
    const image = await this.deps.images.findById(imageId);
    // An internal image is "not found" to public search: its existence is not public either.
    if (!image || (scope === 'public' && image.visibility !== 'public')) {
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
    scope: SearchScope,
  ): Promise<SearchResults> {
    const passing = hits.filter((h) => minScore === undefined || h.score >= minScore);
    // Public search may hold more hits than asked (oversampled): rows decide which are public.
    const kept = scope === 'public' ? passing : passing.slice(0, limit);
    const found = await this.deps.images.findByIds(kept.map((h) => h.id));
    const rows = new Map(
      found.filter((r) => scope === 'library' || r.visibility === 'public').map((r) => [r.id, r]),
    );
    const ranked = kept
      .flatMap((h) => {
        const row = rows.get(h.id);
        return row ? [{ row, score: h.score }] : [];
      })
      .slice(0, limit);
    const images = await this.deps.queries.dtos(ranked.map((f) => f.row));
    return {
      items: ranked.map((f, i) => ({ image: images[i] as Image, score: f.score })),
      model,
    };
  }
}
