import { z } from 'zod';
import { Id } from '../ids.ts';
import { Image } from './images.ts';

export const Album = z
  .object({
    id: Id,
    name: z.string(),
    description: z.string().nullable(),
    coverImageId: Id.nullable(),
    imageCount: z.number().int(),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'Album' });
export type Album = z.infer<typeof Album>;

export const AlbumList = z.object({ items: z.array(Album) }).meta({ id: 'AlbumList' });

export const CreateAlbum = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(10_000).nullable().optional(),
  })
  .strict()
  .meta({ id: 'CreateAlbum' });

export const UpdateAlbum = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(10_000).nullable().optional(),
    coverImageId: Id.nullable().optional().meta({ description: 'Must be an image in the album' }),
  })
  .strict()
  .meta({ id: 'UpdateAlbum' });

/** Add images (at the end, or before `before`), or remove them. */
export const AlbumImagesChange = z
  .object({
    imageIds: z.array(Id).min(1).max(1000),
    before: Id.optional().meta({ description: 'Insert before this image of the album' }),
  })
  .strict()
  .meta({ id: 'AlbumImagesChange' });

/** The album's complete new order: every image of the album, once. */
export const AlbumOrder = z
  .object({ imageIds: z.array(Id).max(100_000) })
  .strict()
  .meta({ id: 'AlbumOrder' });

/** Groups of images that look the same (resized, re-encoded, lightly cropped). */
export const DuplicateGroups = z
  .object({
    groups: z.array(
      z.object({
        images: z.array(Image),
        /** Largest Hamming distance between perceptual hashes within the group. */
        maxDistance: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'DuplicateGroups' });

/** `GET /api/v1/duplicates`: how many of the 64 perceptual-hash bits may differ. */
export const DuplicatesQuery = z.object({
  maxDistance: z.coerce.number().int().min(0).max(16).default(6),
});
export type DuplicatesQuery = z.infer<typeof DuplicatesQuery>;

export const ResolveDuplicates = z
  .object({
    keep: Id,
    remove: z.array(Id).min(1).max(1000),
  })
  .strict()
  .meta({ id: 'ResolveDuplicates' });
