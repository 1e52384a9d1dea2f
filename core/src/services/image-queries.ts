import {
  AexError,
  type Image,
  type ImageList,
  type ImageSort,
  type ListImagesQuery,
} from '@aex/shared';
import type { AlbumRepository } from '../db/album-repository.ts';
import type { ImageRepository } from '../db/image-repository.ts';
import type { ImageFilters, ImageSearchRepository, SearchPosition } from '../db/image-search.ts';
import type { ImageRow } from '../db/schema.ts';
import { toImageDto } from './image-dto.ts';
import type { ActiveResults } from './results/active-results.ts';
import type { DerivedUrls, ThumbnailUrls } from './thumbnail-urls.ts';

/**
 * Reading images: one image with its results (tags, faces, text of the active model
 * versions), and filtered, sorted, keyset-paged lists.
 */
export class ImageQueryService {
  constructor(
    private readonly images: ImageRepository,
    private readonly searches: ImageSearchRepository,
    private readonly albums: Pick<AlbumRepository, 'exists'>,
    private readonly results: Pick<ActiveResults, 'ofImages'>,
    private readonly urls: ThumbnailUrls,
  ) {}

  async get(id: string): Promise<Image> {
    const row = await this.images.findById(id);
    if (!row) throw new AexError('not_found', `No image with id ${id}.`);
    return (await this.dtos([row]))[0] as Image;
  }

  /** The API view of an image row; a just-created image has no results yet, so none are read. */
  async dto(row: ImageRow, options: { justCreated?: boolean } = {}): Promise<Image> {
    if (options.justCreated) return toImageDto(row, await this.urls.of(row));
    return (await this.dtos([row]))[0] as Image;
  }

  /** The API views of rows, in their order, with a page's results read in one query per kind. */
  async dtos(rows: ImageRow[]): Promise<Image[]> {
    const [results, urls] = await Promise.all([
      this.results.ofImages(rows.map((r) => r.id)),
      Promise.all(rows.map((row) => this.urls.of(row))),
    ]);
    return rows.map((row, i) => toImageDto(row, urls[i] as DerivedUrls, results.get(row.id)));
  }

  async list(query: ListImagesQuery): Promise<ImageList> {
    if (query.sort === 'album' && query.album === undefined) {
      throw new AexError(
        'invalid_input',
        "sort=album orders by an album's own order: give the album too (album=<id>).",
      );
    }
    if (query.album !== undefined && !(await this.albums.exists(query.album))) {
      throw new AexError('not_found', `No album with id ${query.album}.`);
    }
    const after =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, query.sort, query.album);
    // One extra row says whether another page exists without a count query.
    const hits = await this.searches.search({
      sort: query.sort,
      limit: query.limit + 1,
      filters: filtersOf(query),
      after,
    });
    const page = hits.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: await this.dtos(page.map((h) => h.row)),
      nextCursor:
        hits.length > query.limit && last
          ? encodeCursor(query.sort, last.position, query.album)
          : null,
    };
  }
}

/** Formats as stored: lower-case, with the usual short names mapped. */
const FORMAT_ALIASES: Record<string, string> = { jpg: 'jpeg', tif: 'tiff' };

function filtersOf(q: ListImagesQuery): ImageFilters {
  const format = q.format?.trim().toLowerCase();
  return {
    takenAfter: q.takenAfter === undefined ? undefined : new Date(q.takenAfter),
    takenBefore: q.takenBefore === undefined ? undefined : new Date(q.takenBefore),
    camera: q.camera?.trim(),
    lens: q.lens?.trim(),
    hasGps: q.hasGps,
    bbox: q.bbox,
    tag: q.tag?.trim(),
    album: q.album,
    format: format === undefined ? undefined : (FORMAT_ALIASES[format] ?? format),
    minRating: q.minRating,
    visibility: q.visibility,
  };
}

// The cursor is opaque to clients (base64url JSON): the sort it was made for, the last row's
// sort key and its id (the tie-breaker). A cursor carried over to another sort would silently
// start somewhere arbitrary, so it is refused instead.
interface CursorBody {
  v: 2;
  s: ImageSort;
  k: string | number;
  i: string;
  a?: string;
}

function encodeCursor(sort: ImageSort, position: SearchPosition, album?: string): string {
  const body: CursorBody = { v: 2, s: sort, k: position.key, i: position.id };
  if (sort === 'album') body.a = album;
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/;

function decodeCursor(cursor: string, sort: ImageSort, album?: string): SearchPosition {
  const invalid = (why: string) =>
    new AexError(
      'invalid_input',
      `The cursor is not valid (${why}): pass the nextCursor of the previous page unchanged, with the same sort.`,
    );
  let body: Partial<CursorBody>;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    body = parsed as Partial<CursorBody>;
  } catch {
    throw invalid('not a cursor AEX made');
  }
  if (body.v !== 2 || typeof body.i !== 'string' || !UUID.test(body.i)) {
    throw invalid('not a cursor AEX made');
  }
  if (body.s !== sort) throw invalid(`it was made for sort=${String(body.s)}, not sort=${sort}`);
  if (sort === 'album') {
    if (body.a !== album) throw invalid('it was made for another album');
    if (typeof body.k !== 'number' || !Number.isFinite(body.k)) throw invalid('bad position');
  } else if (typeof body.k !== 'string' || !isTimestamp(body.k)) {
    throw invalid('bad time');
  }
  return { key: body.k, id: body.i };
}

/** Whether `text` is a real UTC instant in the cursor's form (no 31st of February). */
function isTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as number[];
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(y as number, (mo as number) - 1, d);
  date.setUTCHours(h as number, mi, s);
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === (mo as number) - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s
  );
}
