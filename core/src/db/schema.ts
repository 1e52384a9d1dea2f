import {
  bigint,
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
    cameraMake: text('camera_make'),
    cameraModel: text('camera_model'),
    originalKey: text('original_key').notNull(),
    thumbKey: text('thumb_key').notNull(),
    previewKey: text('preview_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('images_taken_at_idx').on(t.takenAt)],
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
    index('image_tags_label_idx').on(t.label),
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
