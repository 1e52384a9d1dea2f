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

export const Visibility = z
  .enum(['public', 'internal'])
  .meta({ description: 'public: anyone may see it; internal: signed-in users only' });
export type Visibility = z.infer<typeof Visibility>;

export const TakenAtSource = z.enum(['exif', 'xmp', 'gps', 'sidecar', 'file', 'user']);
export type TakenAtSource = z.infer<typeof TakenAtSource>;

/** Minutes east of UTC, as EXIF OffsetTimeOriginal gives it (-12:00 … +14:00). */
export const UtcOffsetMinutes = z.number().int().min(-720).max(840);

export const Exposure = z.object({
  exposureTime: z.number().positive().nullable().meta({ description: 'Seconds' }),
  fNumber: z.number().positive().nullable(),
  iso: z.number().int().positive().nullable(),
  focalLength: z.number().positive().nullable().meta({ description: 'Millimetres' }),
  focalLength35mm: z.number().positive().nullable(),
});

export const GeoLocation = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  altitude: z.number().nullable().meta({ description: 'Metres above sea level' }),
});
export type GeoLocation = z.infer<typeof GeoLocation>;

/** XMP rating: -1 rejected, 0 unrated, 1–5 stars. */
export const Rating = z.number().int().min(-1).max(5);

/** [x, y] as fractions of the upright image's width and height. */
const ImagePoint = z.tuple([z.number(), z.number()]);

export const ImageFace = z
  .object({
    id: Id,
    box: z
      .object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() })
      .meta({ description: "Top-left corner and size, as fractions of the upright image's size" }),
    landmarks: z.array(ImagePoint).meta({
      description: 'Left eye, right eye, nose tip, left and right mouth corners',
    }),
    score: z.number().meta({ description: "The detector's confidence, 0–1" }),
    model: z.object({ id: z.string(), version: z.string() }).meta({ description: 'The embedder' }),
    detector: z.object({ id: z.string(), version: z.string() }),
  })
  .meta({ id: 'ImageFace' });
export type ImageFace = z.infer<typeof ImageFace>;

export const ImageTextLine = z
  .object({
    text: z.string(),
    confidence: z.number().meta({ description: "The recogniser's confidence, 0–1" }),
    polygon: z.array(ImagePoint).meta({
      description: 'The four corners of the line, clockwise from top-left',
    }),
  })
  .meta({ id: 'ImageTextLine' });
export type ImageTextLine = z.infer<typeof ImageTextLine>;

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
    dominantColor: z
      .string()
      .regex(/^#[0-9a-f]{6}$/)
      .nullable(),
    takenAt: z.iso.datetime({ offset: true }).nullable(),
    takenAtOffset: UtcOffsetMinutes.nullable().meta({
      description: 'Minutes east of UTC where the photo was taken, when known',
    }),
    takenAtSource: TakenAtSource.nullable(),
    camera: z.object({ make: z.string().nullable(), model: z.string().nullable() }).nullable(),
    lens: z.string().nullable(),
    exposure: Exposure.nullable(),
    location: GeoLocation.nullable(),
    orientation: z.number().int().min(1).max(8).nullable().meta({
      description:
        'EXIF Orientation of the original as read; width, height and derived images are already upright',
    }),
    rating: Rating.nullable(),
    description: z.string().nullable(),
    keywords: z.array(z.string()).meta({ description: 'From XMP/IPTC and from users' }),
    visibility: Visibility,
    originalName: z.string().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
    urls: z.object({
      thumb: z.string().meta({ example: '/t/<sha256>/thumb' }),
      preview: z.string().meta({ example: '/t/<sha256>/preview' }),
      original: z.string().meta({ example: '/api/v1/images/<id>/original' }),
    }),
    tags: z.array(ImageTag).meta({ description: 'Labels computed by models, best first' }),
    faces: z.array(ImageFace).meta({
      description: 'Faces found by the active face model, best score first',
    }),
    text: z.array(ImageTextLine).meta({
      description: 'Lines of text read by the active OCR model, in reading order',
    }),
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

const queryBoolean = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

/** `minLon,minLat,maxLon,maxLat` (GeoJSON order); a box may cross the antimeridian. */
const BoundingBox = z.string().transform((value, ctx) => {
  const parts = value.split(',').map((p) => Number(p.trim()));
  const [minLon, minLat, maxLon, maxLat] = parts;
  const valid =
    parts.length === 4 &&
    parts.every(Number.isFinite) &&
    [minLon, maxLon].every((v) => (v as number) >= -180 && (v as number) <= 180) &&
    [minLat, maxLat].every((v) => (v as number) >= -90 && (v as number) <= 90) &&
    (minLat as number) <= (maxLat as number);
  if (!valid) {
    ctx.addIssue({ code: 'custom', message: 'must be minLon,minLat,maxLon,maxLat in degrees' });
    return z.NEVER;
  }
  return { minLon, minLat, maxLon, maxLat } as {
    minLon: number;
    minLat: number;
    maxLon: number;
    maxLat: number;
  };
});

export const ImageSort = z.enum(['-takenAt', 'takenAt', '-createdAt', 'createdAt', 'album']).meta({
  description:
    "takenAt orders by when the photo was taken (upload time when unknown); `-` is newest first; album: the album's own order (needs `album`)",
});
export type ImageSort = z.infer<typeof ImageSort>;

export const ListImagesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
  sort: ImageSort.default('-takenAt'),
  takenAfter: z.iso.datetime({ offset: true }).optional(),
  takenBefore: z.iso.datetime({ offset: true }).optional(),
  camera: z.string().max(200).optional().meta({ description: 'Camera model, case-insensitive' }),
  lens: z.string().max(200).optional().meta({ description: 'Lens model, case-insensitive' }),
  hasGps: queryBoolean.optional(),
  bbox: BoundingBox.optional(),
  tag: z.string().max(200).optional().meta({ description: 'A keyword or a model label' }),
  album: Id.optional(),
  format: z.string().max(20).optional(),
  minRating: z.coerce.number().int().min(-1).max(5).optional(),
  visibility: Visibility.optional(),
});
export type ListImagesQuery = z.infer<typeof ListImagesQuery>;

/** `PATCH /api/v1/images/:id`: every field is optional; null clears. */
export const UpdateImage = z
  .object({
    description: z.string().max(10_000).nullable().optional(),
    visibility: Visibility.optional(),
    takenAt: z.iso.datetime({ offset: true }).nullable().optional(),
    takenAtOffset: UtcOffsetMinutes.nullable().optional(),
    keywords: z.array(z.string().trim().min(1).max(200)).max(500).optional(),
    rating: Rating.nullable().optional(),
  })
  .strict()
  .meta({ id: 'UpdateImage' });
export type UpdateImage = z.infer<typeof UpdateImage>;

/** `POST /api/v1/images/batch-status`: which of these originals are already stored. */
export const BatchStatusRequest = z
  .object({ sha256: z.array(Sha256).min(1).max(1000) })
  .meta({ id: 'BatchStatusRequest' });
export const BatchStatusResponse = z
  .object({
    results: z.array(z.object({ sha256: Sha256, imageId: Id.nullable() })),
  })
  .meta({ id: 'BatchStatusResponse' });
export type BatchStatusResponse = z.infer<typeof BatchStatusResponse>;

/**
 * What an importer read from a photo's sidecar (XMP `photo.jpg.xmp` / `photo.xmp`, Google
 * Takeout JSON) and sends with the upload as `X-Aex-Sidecar` (base64url JSON). Core merges it
 * with the embedded metadata: the sidecar wins where it is newer (`modifiedAt`).
 */
export const SidecarMetadata = z
  .object({
    source: z.enum(['xmp', 'takeout']),
    modifiedAt: z.iso.datetime({ offset: true }).nullable().optional(),
    takenAt: z.iso.datetime({ offset: true }).nullable().optional(),
    takenAtOffset: UtcOffsetMinutes.nullable().optional(),
    description: z.string().max(10_000).nullable().optional(),
    keywords: z.array(z.string().max(200)).max(500).optional(),
    rating: Rating.nullable().optional(),
    location: GeoLocation.nullable().optional(),
  })
  .strict()
  .meta({ id: 'SidecarMetadata' });
export type SidecarMetadata = z.infer<typeof SidecarMetadata>;

export const ImageIdParam = z.object({ id: Id });

/** The answer to an upload: the image, and whether these bytes were new. */
export const UploadResult = z
  .object({ image: Image, created: z.boolean() })
  .meta({ id: 'UploadResult' });
export type UploadResult = z.infer<typeof UploadResult>;

/**
 * `GET /api/v1/search`: by meaning (`q`, CLIP), by likeness to an image (`similarTo`), and/or by
 * the words read in images (`text`). Which of them combine is checked by core.
 */
export const SearchQuery = z.object({
  q: z.string().trim().min(1).max(1000).optional().meta({
    description: 'What the photos show, in words ("a dog on a beach")',
  }),
  similarTo: Id.optional().meta({ description: 'An image id: photos that look like it' }),
  text: z.string().trim().min(1).max(200).optional().meta({
    description: 'Words recognised in the photo (OCR); websearch syntax: "quoted phrase", or, -not',
  }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  minScore: z.coerce.number().min(-1).max(1).optional().meta({
    description: 'Drop hits scoring below this (cosine similarity for q and similarTo)',
  }),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

export const SearchHit = z
  .object({
    image: Image,
    score: z.number().meta({
      description:
        'Relevance, higher is better: cosine similarity (−1…1) for q and similarTo; the full-text rank (0…1) for text alone',
    }),
  })
  .meta({ id: 'SearchHit' });
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchResults = z
  .object({
    items: z.array(SearchHit).meta({ description: 'Best first' }),
    model: z
      .object({ id: z.string(), version: z.string() })
      .meta({ description: 'The model whose results ranked the hits' }),
  })
  .meta({ id: 'SearchResults' });
export type SearchResults = z.infer<typeof SearchResults>;
