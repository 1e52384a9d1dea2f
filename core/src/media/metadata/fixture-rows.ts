import type { TakenAtSource } from '@aex/shared';

/**
 * What the fixture test expects of one file under shared/fixtures/images (values checked
 * against ExifTool 13.59). Every typed field is compared: a field a row leaves out must be
 * null (or, for keywords, empty). Numbers match to 5 significant digits, GPS to 5 decimals.
 */
export interface ExpectedMetadata {
  takenAt?: string;
  takenAtSource?: Extract<TakenAtSource, 'exif' | 'xmp' | 'gps'>;
  takenAtOffset?: number;
  make?: string;
  model?: string;
  lens?: string;
  exposureTime?: number | null;
  fNumber?: number | null;
  iso?: number | null;
  focalLength?: number | null;
  focalLength35mm?: number | null;
  /** Latitude, longitude (5 decimals), altitude in metres or null. */
  gps?: [number, number, number | null];
  orientation?: number;
  rating?: number;
  keywords?: string[];
  /** The whole text, or a pattern for a long one. */
  description?: string | RegExp;
  modifiedAt?: string;
}

/** A file whose metadata cannot be read or holds none: every field null, nothing in `raw`. */
export const NONE = 'none';

export type FixtureRow = ExpectedMetadata | typeof NONE;

/** When the photo was taken, where that was read, and the zone offset in minutes if known. */
export function taken(
  takenAt: string,
  takenAtSource: NonNullable<ExpectedMetadata['takenAtSource']>,
  takenAtOffset?: number,
): ExpectedMetadata {
  return takenAtOffset === undefined
    ? { takenAt, takenAtSource }
    : { takenAt, takenAtSource, takenAtOffset };
}

export function camera(make: string | null, model: string | null, lens?: string): ExpectedMetadata {
  const out: ExpectedMetadata = {};
  if (make !== null) out.make = make;
  if (model !== null) out.model = model;
  if (lens !== undefined) out.lens = lens;
  return out;
}

/** Exposure time (s), f-number, ISO, focal length (mm), 35 mm equivalent; null where absent. */
export function exposure(
  exposureTime: number | null,
  fNumber: number | null = null,
  iso: number | null = null,
  focalLength: number | null = null,
  focalLength35mm: number | null = null,
): ExpectedMetadata {
  return { exposureTime, fNumber, iso, focalLength, focalLength35mm };
}
