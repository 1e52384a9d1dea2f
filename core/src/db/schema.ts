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
