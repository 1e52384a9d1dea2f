import { AexError, type Image, type ImageList, type ListImagesQuery } from '@aex/shared';
import type { ImageRepository } from '../db/image-repository.ts';
import type { ImageRow } from '../db/schema.ts';
import { toImageDto } from './image-dto.ts';

/** Reading images: one image with its tags, and the newest-first list with a cursor. */
export class ImageQueryService {
  constructor(private readonly images: ImageRepository) {}

  async get(id: string): Promise<Image> {
    const row = await this.images.findById(id);
    if (!row) throw new AexError('not_found', `No image with id ${id}.`);
    return (await this.withTags([row]))[0] as Image;
  }

  /** The API view of an image row; a just-created image has no tags yet, so none are read. */
  async dto(row: ImageRow, options: { justCreated?: boolean } = {}): Promise<Image> {
    if (options.justCreated) return toImageDto(row, []);
    return (await this.withTags([row]))[0] as Image;
  }

  async list(query: ListImagesQuery): Promise<ImageList> {
    const beforeId = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    // One extra row says whether another page exists without a count query.
    const rows = await this.images.list({ limit: query.limit + 1, beforeId });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: await this.withTags(page),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null,
    };
  }

  private async withTags(rows: ImageRow[]): Promise<Image[]> {
    const tags = await this.images.tagsOf(rows.map((r) => r.id));
    return rows.map((row) => toImageDto(row, tags));
  }
}

// The cursor is opaque to clients (base64url JSON), so its shape can change later (sort
// orders other than newest-first) without breaking them.
function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ v: 1, id })).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      v?: unknown;
      id?: unknown;
    };
    if (parsed.v === 1 && typeof parsed.id === 'string' && UUID.test(parsed.id)) return parsed.id;
  } catch {
    // fall through
  }
  throw new AexError(
    'invalid_input',
    'The cursor is not valid: pass the nextCursor of a previous page unchanged.',
  );
}
