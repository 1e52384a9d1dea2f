import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

/** One row per distinct original (unique sha256): the same bytes uploaded twice are one image. */
export const images = pgTable(
  'images',
  {
    id: uuid('id').primaryKey(),
    sha256: text('sha256').notNull().unique(),
    byteSize: bigint('byte_size', { mode: 'number' }).notNull(),
    mime: text('mime').notNull(),
    format: text('format').notNull(),
    /** Dimensions after the EXIF orientation is applied, as a viewer shows the image. */
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    orientation: smallint('orientation'),
    thumbhash: text('thumbhash').notNull(),
    takenAt: timestamp('taken_at', { withTimezone: true }),
    /** Minutes east of UTC where the photo was taken (EXIF OffsetTimeOriginal), when known. */
    takenAtOffset: smallint('taken_at_offset'),
    /** Where takenAt came from: exif | xmp | gps | file | sidecar | user. */
    takenAtSource: text('taken_at_source'),
    cameraMake: text('camera_make'),
    cameraModel: text('camera_model'),
    lensModel: text('lens_model'),
    /** Seconds. */
    exposureTime: real('exposure_time'),
    fNumber: real('f_number'),
    iso: integer('iso'),
    /** Millimetres, and the 35 mm equivalent. */
    focalLength: real('focal_length'),
    focalLength35mm: real('focal_length_35mm'),
    latitude: doublePrecision('latitude'),
    longitude: doublePrecision('longitude'),
    /** Metres above sea level. */
    altitude: real('altitude'),
    /** XMP rating: -1 rejected, 0 unrated, 1–5 stars. */
    rating: smallint('rating'),
    /** Keywords from XMP/IPTC and from users (PATCH). */
    keywords: text('keywords').array().notNull().default(sql`'{}'::text[]`),
    description: text('description'),
    visibility: text('visibility', { enum: ['public', 'internal'] })
      .notNull()
      .default('internal'),
    /** `#rrggbb`. */
    dominantColor: text('dominant_color'),
    /** 64-bit perceptual hash (DCT) for near-duplicate search. */
    phash: bigint('phash', { mode: 'bigint' }),
    /** The file name the client gave, cleaned for display; never used as a path. */
    originalName: text('original_name'),
    /** The file's modification time as the client reported it. */
    fileModifiedAt: timestamp('file_modified_at', { withTimezone: true }),
    /** Every metadata tag read from the file and its sidecars, for the detail view. */
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    originalKey: text('original_key').notNull(),
    thumbKey: text('thumb_key').notNull(),
    previewKey: text('preview_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * The timeline's order: when the photo was taken, else when it was uploaded. Generated,
     * so a taken-at correction moves the photo at once; indexed with id for keyset paging.
     */
    sortAt: timestamp('sort_at', { withTimezone: true })
      .notNull()
      .generatedAlwaysAs(sql`coalesce(taken_at, created_at)`),
  },
  (t) => [
    index('images_taken_at_idx').on(t.takenAt),
    index('images_sort_idx').on(t.sortAt, t.id),
    index('images_created_at_idx').on(t.createdAt),
    // Filters compare camera and lens case-insensitively: indexes on the lowered values.
    index('images_camera_model_lower_idx').on(sql`lower(${t.cameraModel})`),
    index('images_lens_model_lower_idx').on(sql`lower(${t.lensModel})`),
    index('images_format_idx').on(t.format),
    index('images_rating_idx').on(t.rating),
    index('images_visibility_idx').on(t.visibility),
    index('images_location_idx').on(t.latitude, t.longitude).where(sql`${t.latitude} is not null`),
    index('images_keywords_idx').using('gin', t.keywords),
    check('images_visibility_values', sql`${t.visibility} in ('public', 'internal')`),
    check('images_rating_range', sql`${t.rating} between -1 and 5`),
    check('images_latitude_range', sql`${t.latitude} between -90 and 90`),
    check('images_longitude_range', sql`${t.longitude} between -180 and 180`),
  ],
);
export type ImageRow = typeof images.$inferSelect;
export type NewImageRow = typeof images.$inferInsert;

/**
 * Labels a model gave an image. Keyed by model id and version so a new model's results are
 * written beside the old ones and swapped in when complete (DESIGN.md, "Events").
 */
export const imageTags = pgTable(
  'image_tags',
  {
    imageId: uuid('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    label: text('label').notNull(),
    score: real('score').notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.imageId, t.modelId, t.modelVersion, t.label] }),
    index('image_tags_label_lower_idx').on(sql`lower(${t.label})`),
  ],
);
export type ImageTagRow = typeof imageTags.$inferSelect;

/**
 * Transactional outbox: an event is written in the same transaction as the change it
 * announces, and the relay publishes it afterwards (at least once; the bus drops
 * duplicates by event id).
 */
export const outbox = pgTable(
  'outbox',
  {
    id: uuid('id').primaryKey(),
    subject: text('subject').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [index('outbox_created_at_idx').on(t.createdAt)],
);
export type OutboxRow = typeof outbox.$inferSelect;

/** A named, ordered set of images. */
export const albums = pgTable('albums', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description'),
  coverImageId: uuid('cover_image_id').references(() => images.id, { onDelete: 'set null' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type AlbumRow = typeof albums.$inferSelect;

/** An image's place in an album; `position` orders it (gaps allowed, so moves are cheap). */
export const albumImages = pgTable(
  'album_images',
  {
    albumId: uuid('album_id')
      .notNull()
      .references(() => albums.id, { onDelete: 'cascade' }),
    imageId: uuid('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    position: doublePrecision('position').notNull(),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.albumId, t.imageId] }),
    index('album_images_order_idx').on(t.albumId, t.position),
    index('album_images_image_idx').on(t.imageId),
  ],
);
export type AlbumImageRow = typeof albumImages.$inferSelect;

/**
 * Answers to requests sent with an `Idempotency-Key`: a retry with the same key and the same
 * request gets the stored answer instead of doing the work twice.
 */
export const idempotencyKeys = pgTable('idempotency_keys', {
  key: text('key').primaryKey(),
  /** Method, path and a hash of what identifies the request (the body's sha256 for uploads). */
  fingerprint: text('fingerprint').notNull(),
  status: smallint('status').notNull(),
  response: jsonb('response').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;

/**
 * Which model version has produced a result for an image, per task: what `aex reindex`
 * reads to find images lacking a version's result. Written with every applied result.
 */
export const imageResults = pgTable(
  'image_results',
  {
    imageId: uuid('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    task: text('task').notNull(),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull(),
    /**
     * Faces task only: no face id from this number on holds a vector of this image in the
     * version's collection. Raised before vectors are written, so a crash between the rows and
     * the vectors leaves it covering every vector; null (rows from before it existed) means
     * any of the MAX_FACES_PER_RESULT ids may.
     */
    faceVectorBound: integer('face_vector_bound'),
  },
  (t) => [
    primaryKey({ columns: [t.imageId, t.task, t.modelId, t.modelVersion] }),
    index('image_results_model_idx').on(t.task, t.modelId, t.modelVersion),
  ],
);
export type ImageResultRow = typeof imageResults.$inferSelect;

/**
 * The model version whose results the API serves, per task. A new version is filled in beside
 * it (results are keyed by version) and made active when done: a model swap without downtime.
 */
export const taskModels = pgTable('task_models', {
  task: text('task').primaryKey(),
  modelId: text('model_id').notNull(),
  modelVersion: text('model_version').notNull(),
  activatedAt: timestamp('activated_at', { withTimezone: true }).notNull().defaultNow(),
});
export type TaskModelRow = typeof taskModels.$inferSelect;

/** Faces found in an image; each face's embedding is in the vector index under its id. */
export const imageFaces = pgTable(
  'image_faces',
  {
    id: uuid('id').primaryKey(),
    imageId: uuid('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    /** The embedder (results are keyed by it) and the detector. */
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    detectorId: text('detector_id').notNull(),
    detectorVersion: text('detector_version').notNull(),
    /** Box as fractions of the upright image. */
    x: real('x').notNull(),
    y: real('y').notNull(),
    width: real('width').notNull(),
    height: real('height').notNull(),
    /** Five [x, y] points, fractions of the upright image. */
    landmarks: jsonb('landmarks').$type<Array<[number, number]>>().notNull(),
    score: real('score').notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('image_faces_image_idx').on(t.imageId, t.modelId, t.modelVersion)],
);
export type ImageFaceRow = typeof imageFaces.$inferSelect;

/** Lines of text recognised in an image. */
export const imageTextLines = pgTable(
  'image_text_lines',
  {
    imageId: uuid('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    modelVersion: text('model_version').notNull(),
    lineNo: integer('line_no').notNull(),
    text: text('text').notNull(),
    confidence: real('confidence').notNull(),
    /** Four [x, y] points clockwise from top-left, fractions of the upright image. */
    polygon: jsonb('polygon').$type<Array<[number, number]>>().notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.imageId, t.modelId, t.modelVersion, t.lineNo] }),
    // Finding photos by the words in them ('simple': no language-specific stemming).
    index('image_text_lines_search_idx').using('gin', sql`to_tsvector('simple', ${t.text})`),
  ],
);
export type ImageTextLineRow = typeof imageTextLines.$inferSelect;

// Who changed what.
export * from './audit-schema.ts';
// The built-in issuer (users, signing keys, refresh tokens, API keys, login attempts).
export * from './identity-schema.ts';
