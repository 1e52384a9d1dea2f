import { z } from 'zod';
import { Id, Sha256 } from '../ids.ts';

/**
 * A public image as anonymous clients see it: what the picture shows and how to fetch its
 * thumbnails, nothing about who took it where. Location, camera, file name, keywords, faces
 * and recognised text are left out: they can name people and places, and the owner made the
 * picture public, not its metadata.
 */
export const PublicImage = z
  .object({
    id: Id,
    sha256: Sha256,
    width: z.number().int(),
    height: z.number().int(),
    format: z.string(),
    thumbhash: z.string(),
    dominantColor: z.string().nullable(),
    description: z.string().nullable(),
    tags: z.array(z.string()).meta({ description: 'Labels computed by models, best first' }),
    urls: z.object({
      thumb: z.string().meta({ example: '/t/<sha256>/thumb' }),
      preview: z.string().meta({ example: '/t/<sha256>/preview' }),
    }),
  })
  .meta({ id: 'PublicImage' });
export type PublicImage = z.infer<typeof PublicImage>;

export const PublicSearchResults = z
  .object({
    items: z
      .array(z.object({ image: PublicImage, score: z.number() }))
      .meta({ description: 'Best first' }),
  })
  .meta({ id: 'PublicSearchResults' });
export type PublicSearchResults = z.infer<typeof PublicSearchResults>;

export const PublicImageBySha = z.object({ sha256: Sha256 });
