import { z } from 'zod';
import { Id, Sha256 } from '../ids.ts';

export const ImageTag = z
  .object({
    label: z.string(),
    score: z.number(),
    model: z.object({ id: z.string(), version: z.string() }),
  })
  .meta({ id: 'ImageTag' });
export type ImageTag = z.infer<typeof ImageTag>;

export const Image = z
  .object({
    id: Id,
    sha256: Sha256,
    mime: z.string().meta({ example: 'image/jpeg' }),
    format: z.string().meta({ example: 'jpeg' }),
    width: z.number().int().meta({ description: 'Width after EXIF orientation is applied' }),
    height: z.number().int(),
    byteSize: z.number().int(),
    thumbhash: z.string().meta({ description: 'ThumbHash of the image, base64' }),
    takenAt: z.iso.datetime({ offset: true }).nullable(),
    camera: z.object({ make: z.string().nullable(), model: z.string().nullable() }).nullable(),
    orientation: z.number().int().min(1).max(8).nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    urls: z.object({
      thumb: z.string().meta({ example: '/t/<sha256>/thumb' }),
      preview: z.string().meta({ example: '/t/<sha256>/preview' }),
    }),
    tags: z.array(ImageTag),
  })
  .meta({ id: 'Image' });
export type Image = z.infer<typeof Image>;

export const ImageList = z
  .object({
    items: z.array(Image),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page' }),
  })
  .meta({ id: 'ImageList' });
export type ImageList = z.infer<typeof ImageList>;

export const ListImagesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type ListImagesQuery = z.infer<typeof ListImagesQuery>;

export const ImageIdParam = z.object({ id: Id });

/** The answer to an upload: the image, and whether these bytes were new. */
export const UploadResult = z
  .object({ image: Image, created: z.boolean() })
  .meta({ id: 'UploadResult' });
export type UploadResult = z.infer<typeof UploadResult>;
