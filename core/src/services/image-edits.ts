import {
  AexError,
  type AexEvent,
  type Image,
  type ImageDeleted,
  makeEvent,
  Subjects,
  type UpdateImage,
} from '@aex/shared';
import type { ImageEdit, ImageRepository } from '../db/image-repository.ts';
import type { ImageRow } from '../db/schema.ts';
import type { ImageQueryService } from './image-queries.ts';
import type { ImageBlobRemover } from './remove-image-blobs.ts';

export interface ImageEditDeps {
  images: ImageRepository;
  queries: ImageQueryService;
  blobRemover: ImageBlobRemover;
  /** Called after a change with events committed (wakes the outbox relay). */
  onCommitted: () => void;
}

/** Users' changes to images: PATCH of their metadata, and DELETE. */
export class ImageEditService {
  constructor(private readonly deps: ImageEditDeps) {}

  /** Applies a PATCH; `updated_at` is bumped. */
  async update(id: string, patch: UpdateImage): Promise<Image> {
    if (Object.keys(patch).length === 0) {
      throw new AexError(
        'invalid_input',
        'The body changes nothing: give at least one of description, visibility, takenAt, takenAtOffset, keywords, rating.',
      );
    }
    const current = await this.deps.images.findById(id);
    if (!current) throw new AexError('not_found', `No image with id ${id}.`);
    const row = await this.deps.images.update(id, imageEdit(current, patch));
    if (!row) throw new AexError('not_found', `No image with id ${id}.`);
    return this.deps.queries.dto(row);
  }

  /**
   * Deletes an image: the row and its `aex.image.deleted` event in one transaction, then its
   * blobs (see `ImageBlobRemover` for why no blob is left behind even if that step fails).
   */
  async delete(id: string): Promise<void> {
    const deleted = await this.deps.images.deleteWithEvents([id], deletedEvents);
    if (deleted.length === 0) throw new AexError('not_found', `No image with id ${id}.`);
    this.deps.onCommitted();
    await this.deps.blobRemover.removeAfterCommit(deleted.map((r) => r.sha256));
  }
}

/** The event announcing that an image row is gone. */
export function deletedEvents(row: ImageRow): AexEvent[] {
  return [
    makeEvent<ImageDeleted>({ type: Subjects.imageDeleted, imageId: row.id, sha256: row.sha256 }),
  ];
}

/** The columns a PATCH changes, after checking what only the current row can tell. */
export function imageEdit(current: ImageRow, patch: UpdateImage): ImageEdit {
  const edit: ImageEdit = {};
  if (patch.description !== undefined) edit.description = patch.description || null;
  if (patch.visibility !== undefined) edit.visibility = patch.visibility;
  if (patch.rating !== undefined) edit.rating = patch.rating;
  if (patch.keywords !== undefined) edit.keywords = uniqueKeywords(patch.keywords);
  if (patch.takenAt === null) {
    if (patch.takenAtOffset != null) {
      throw new AexError('invalid_input', 'takenAtOffset needs a takenAt: the offset of what?');
    }
    // "Unknown": the timeline falls back to the upload time (sort_at).
    Object.assign(edit, { takenAt: null, takenAtOffset: null, takenAtSource: null });
  } else if (patch.takenAt !== undefined) {
    edit.takenAt = new Date(patch.takenAt);
    edit.takenAtSource = 'user';
    edit.takenAtOffset =
      patch.takenAtOffset !== undefined ? patch.takenAtOffset : offsetOf(patch.takenAt);
  } else if (patch.takenAtOffset !== undefined) {
    if (current.takenAt === null && patch.takenAtOffset !== null) {
      throw new AexError(
        'invalid_input',
        'This image has no takenAt, so takenAtOffset alone means nothing: send takenAt too.',
      );
    }
    edit.takenAtOffset = patch.takenAtOffset;
    edit.takenAtSource = 'user';
  }
  return edit;
}

/**
 * The UTC offset written in an ISO time, in minutes; null for `Z`, which says the instant is
 * in UTC but not where the photo was taken.
 */
function offsetOf(iso: string): number | null {
  const m = /([+-])(\d{2}):?(\d{2})$/.exec(iso);
  if (!m) return null;
  const minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  if (minutes < -720 || minutes > 840) {
    throw new AexError(
      'invalid_input',
      'takenAt: the UTC offset must be between -12:00 and +14:00.',
    );
  }
  return minutes;
}

/** Keywords without repeats, compared case-insensitively; the first spelling is kept. */
export function uniqueKeywords(keywords: string[]): string[] {
  const seen = new Set<string>();
  return keywords.filter((k) => {
    const key = k.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * What the kept image takes from the copies deleted with it: a user who curated a copy
 * (rated it, tagged it, put it in albums) expects that work to survive. Keywords: the union.
 * Rating: the best (a rejection, -1, only when nothing better). Description, taken-at and
 * location: the kept image's own, else the first copy's that has one (a resized copy often
 * lost its EXIF while the original still has it). Album membership and covers are moved by
 * the repository. Visibility stays the kept image's.
 */
export function mergeDuplicates(keep: ImageRow, removed: ImageRow[]): ImageEdit {
  const all = [keep, ...removed];
  const ratings = all.map((r) => r.rating).filter((r): r is number => r !== null);
  const edit: ImageEdit = {
    keywords: uniqueKeywords(all.flatMap((r) => r.keywords)),
    rating: ratings.length > 0 ? Math.max(...ratings) : null,
    description: all.find((r) => r.description)?.description ?? null,
  };
  const dated = all.find((r) => r.takenAt !== null);
  if (dated && keep.takenAt === null) {
    Object.assign(edit, {
      takenAt: dated.takenAt,
      takenAtOffset: dated.takenAtOffset,
      takenAtSource: dated.takenAtSource,
    });
  }
  const placed = all.find((r) => r.latitude !== null && r.longitude !== null);
  if (placed && keep.latitude === null) {
    Object.assign(edit, {
      latitude: placed.latitude,
      longitude: placed.longitude,
      altitude: placed.altitude,
    });
  }
  return edit;
}
