import { AexError, type Album, newId } from '@aex/shared';
import type { AlbumRepository, AlbumWithCount } from '../db/album-repository.ts';

/** At most this many ids are quoted back in an error's detail. */
const QUOTED_IDS = 20;

/** Albums: named, ordered sets of images. Images stay when an album is deleted. */
export class AlbumService {
  constructor(private readonly albums: AlbumRepository) {}

  async create(input: { name: string; description?: string | null }): Promise<Album> {
    const row = await this.albums.create({
      id: newId(),
      name: input.name,
      description: input.description || null,
    });
    return toAlbumDto({ ...row, imageCount: 0 });
  }

  async list(): Promise<Album[]> {
    return (await this.albums.list()).map(toAlbumDto);
  }

  async get(id: string): Promise<Album> {
    const album = await this.albums.get(id);
    if (!album) throw missingAlbum(id);
    return toAlbumDto(album);
  }

  /** Renames, describes, or sets the cover (which must be an image of the album; null unsets). */
  async update(
    id: string,
    changes: { name?: string; description?: string | null; coverImageId?: string | null },
  ): Promise<Album> {
    if (Object.keys(changes).length === 0) {
      throw new AexError(
        'invalid_input',
        'The body changes nothing: give at least one of name, description, coverImageId.',
      );
    }
    const normalized =
      changes.description === '' ? { ...changes, description: null } : { ...changes };
    const result = await this.albums.update(id, normalized);
    if (result.status === 'album_missing') throw missingAlbum(id);
    if (result.status === 'cover_not_in_album') {
      throw new AexError(
        'invalid_input',
        `coverImageId ${changes.coverImageId} is not an image of this album: add it first.`,
      );
    }
    return toAlbumDto(result.album);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.albums.delete(id))) throw missingAlbum(id);
  }

  /** Adds images at the end or before `before`; images already there stay where they are. */
  async addImages(id: string, imageIds: string[], before?: string): Promise<Album> {
    const result = await this.albums.addImages(id, imageIds, before);
    if (result.status === 'album_missing') throw missingAlbum(id);
    if (result.status === 'unknown_images') throw unknownImages(result.ids);
    if (result.status === 'before_not_in_album') {
      throw new AexError(
        'invalid_input',
        `before ${before} is not an image of this album: give one of its images, or leave it out to add at the end.`,
      );
    }
    return this.get(id);
  }

  /** Removes images from the album (not from AEX); those not in it are ignored. */
  async removeImages(id: string, imageIds: string[], before?: string): Promise<Album> {
    if (before !== undefined) {
      throw new AexError(
        'invalid_input',
        'before means nothing when removing images: leave it out.',
      );
    }
    const result = await this.albums.removeImages(id, imageIds);
    if (result.status === 'album_missing') throw missingAlbum(id);
    if (result.status === 'unknown_images') throw unknownImages(result.ids);
    return this.get(id);
  }

  /** Sets the complete order: `imageIds` must be the album's images, each once. */
  async reorder(id: string, imageIds: string[]): Promise<Album> {
    const result = await this.albums.reorder(id, imageIds);
    if (result.status === 'album_missing') throw missingAlbum(id);
    if (result.status === 'not_a_permutation') {
      const parts = [
        result.missing.length > 0 ? `missing ${quote(result.missing)}` : '',
        result.extra.length > 0 ? `not in the album ${quote(result.extra)}` : '',
        result.repeated.length > 0 ? `repeated ${quote(result.repeated)}` : '',
      ].filter(Boolean);
      throw new AexError(
        'invalid_input',
        `imageIds must list every image of the album exactly once: ${parts.join('; ')}.`,
      );
    }
    return this.get(id);
  }
}

function toAlbumDto(row: AlbumWithCount): Album {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    coverImageId: row.coverImageId,
    imageCount: row.imageCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function missingAlbum(id: string): AexError {
  return new AexError('not_found', `No album with id ${id}.`);
}

function unknownImages(ids: string[]): AexError {
  return new AexError('invalid_input', `No image with id ${quote(ids)}: nothing was changed.`);
}

/** Ids for an error message: all of a few, or the first ones and a count. */
function quote(ids: string[]): string {
  const shown = ids.slice(0, QUOTED_IDS).join(', ');
  return ids.length > QUOTED_IDS ? `${shown} and ${ids.length - QUOTED_IDS} more` : shown;
}
