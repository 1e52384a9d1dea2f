import type { GeoLocation } from '@aex/shared';
import { parseExifDate } from './exif-date.ts';
import { cleanText, first, positiveNumber } from './text-values.ts';
import type { XmpProperties, XmpValue } from './xmp-packet.ts';

/**
 * XMP dates that say when a photo was taken, best first. The Metadata Working Group's
 * Guidelines for Handling Image Metadata (2.0) map EXIF DateTimeOriginal to
 * photoshop:DateCreated (exif:DateTimeOriginal in older packets) and DateTimeDigitized to
 * xmp:CreateDate, so CreateDate comes last, as in EXIF.
 */
export const XMP_TAKEN_AT = ['exif:DateTimeOriginal', 'photoshop:DateCreated', 'xmp:CreateDate'];

/** The text of the first of `keys` that has one; a language alternative gives its x-default. */
export function xmpText(props: XmpProperties, ...keys: string[]): string | null {
  for (const key of keys) {
    const text = cleanText(textOf(props[key]), Number.POSITIVE_INFINITY);
    if (text !== null) return text;
  }
  return null;
}

function textOf(value: XmpValue | undefined): string | undefined {
  if (typeof value === 'string' || value === undefined) return value;
  if (Array.isArray(value))
    return value.map(textOf).find((v) => v !== undefined && v.trim() !== '');
  return textOf(value['x-default'] ?? Object.values(value)[0]);
}

/** The items of a Bag/Seq, or a single simple value as one item. */
export function xmpList(value: XmpValue | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** A positive number from a simple value or the first item of a Seq (`exif:ISOSpeedRatings`). */
export function xmpNumber(props: XmpProperties, ...keys: string[]): number | null {
  for (const key of keys) {
    const n = positiveNumber(first(props[key]));
    if (n !== null) return n;
  }
  return null;
}

/**
 * Keywords as XMP writers store them: dc:subject (flat), and the leaf of each Lightroom
 * lr:hierarchicalSubject (`Places|France|Paris` → `Paris`) and digiKam:TagsList (`/`).
 * darktable's own bookkeeping tags (`darktable|format|cr2`) are not keywords.
 */
export function xmpKeywords(props: XmpProperties): string[] {
  const leaf = (path: string, sep: string) => path.split(sep).pop() ?? '';
  return [
    ...xmpList(props['dc:subject']),
    ...xmpList(props['lr:hierarchicalSubject'])
      .filter((k) => !k.startsWith('darktable|'))
      .map((k) => leaf(k, '|')),
    ...xmpList(props['digiKam:TagsList']).map((k) => leaf(k, '/')),
  ];
}

/** An XMP/EXIF rating brought into -1 (rejected) … 5; fractional stars are rounded. */
export function clampRating(value: unknown): number | null {
  const v = first(value);
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) return null;
  return Math.min(5, Math.max(-1, Math.round(n)));
}

/**
 * xmp:Rating (a Real, -1 for rejected, 0 unrated, 1–5 stars), else Windows'
 * MicrosoftPhoto:Rating, which is a percentage (1, 25, 50, 75, 99 for one to five stars).
 */
export function xmpRating(props: XmpProperties): number | null {
  return clampRating(props['xmp:Rating']) ?? clampPercent(props['MicrosoftPhoto:Rating']);
}

function clampPercent(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return null;
  if (n <= 0) return 0;
  return n < 13 ? 1 : n < 38 ? 2 : n < 63 ? 3 : n < 88 ? 4 : 5;
}

/**
 * A GPS coordinate as the XMP EXIF schema writes it (XMP Specification Part 2, GPSCoordinate):
 * `DDD,MM,SSk` or `DDD,MM.mmk` with k one of N S E W; plain decimal degrees are accepted too.
 */
export function parseGpsCoordinate(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const m =
    /^\s*(-?\d+(?:\.\d+)?)(?:\s*,\s*(\d+(?:\.\d+)?))?(?:\s*,\s*(\d+(?:\.\d+)?))?\s*([NSEW])?\s*$/i.exec(
      value,
    );
  if (!m) return null;
  const minutes = Number(m[2] ?? 0);
  const seconds = Number(m[3] ?? 0);
  if (minutes >= 60 || seconds >= 60) return null;
  const degrees = Math.abs(Number(m[1])) + minutes / 60 + seconds / 3600;
  const negative = m[1]?.startsWith('-') || /[SW]/i.test(m[4] ?? '');
  return negative ? -degrees : degrees;
}

/**
 * A location if it is one: finite, in range, and not exactly 0,0 — cameras without a fix and
 * Google Takeout both write zeros for "unknown".
 */
export function makeLocation(
  latitude: number | null,
  longitude: number | null,
  altitude: number | null = null,
): GeoLocation | null {
  if (latitude === null || longitude === null) return null;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return null;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  if (latitude === 0 && longitude === 0) return null;
  return {
    latitude,
    longitude,
    altitude: altitude !== null && Number.isFinite(altitude) ? altitude : null,
  };
}

/** exif:GPSLatitude/Longitude/Altitude of an XMP packet; GPSAltitudeRef 1 is below sea level. */
export function xmpLocation(props: XmpProperties): GeoLocation | null {
  const altitude =
    positiveNumber(props['exif:GPSAltitude']) ?? (props['exif:GPSAltitude'] === '0' ? 0 : null);
  const below = textOf(props['exif:GPSAltitudeRef'])?.trim() === '1';
  return makeLocation(
    parseGpsCoordinate(props['exif:GPSLatitude']),
    parseGpsCoordinate(props['exif:GPSLongitude']),
    altitude === null ? null : below ? -altitude : altitude,
  );
}

/**
 * When the metadata was last changed: xmp:MetadataDate ("the date and time that any metadata
 * for this resource was last changed", XMP Specification Part 1, xmp namespace), else
 * xmp:ModifyDate.
 */
export function xmpModifiedAt(props: XmpProperties): Date | null {
  return (
    parseExifDate(textOf(props['xmp:MetadataDate'])) ??
    parseExifDate(textOf(props['xmp:ModifyDate']))
  );
}

/** The raw text of one property, for callers that parse it themselves (dates). */
export function xmpRaw(props: XmpProperties, key: string): string | undefined {
  return textOf(props[key]);
}
