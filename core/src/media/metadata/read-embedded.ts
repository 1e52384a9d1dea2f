import exifr from 'exifr';
import type { EmbeddedMetadata } from '../types.ts';
import { parseExifDate } from './exif-date.ts';

const EMPTY: EmbeddedMetadata = {
  takenAt: null,
  takenAtOffset: null,
  takenAtSource: null,
  make: null,
  model: null,
  lens: null,
  exposureTime: null,
  fNumber: null,
  iso: null,
  focalLength: null,
  focalLength35mm: null,
  location: null,
  orientation: null,
  rating: null,
  keywords: [],
  description: null,
  modifiedAt: null,
  raw: {},
};

function text(value: unknown): string | null {
  if (Array.isArray(value)) return text(value[0]);
  if (value && typeof value === 'object' && 'value' in value)
    return text((value as { value: unknown }).value);
  if (typeof value !== 'string') return null;
  // Camera strings are often NUL- or space-padded to a fixed width.
  const clean = value.replace(/\0/g, '').trim();
  return clean.length > 0 && clean.length <= 2000 ? clean : null;
}

function positive(value: unknown): number | null {
  const n = Array.isArray(value) ? Number(value[0]) : Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** `+02:00` → 120. */
export function offsetMinutes(value: unknown): number | null {
  const m = typeof value === 'string' ? /^([+-])(\d{2}):?(\d{2})$/.exec(value.trim()) : null;
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (minutes > 14 * 60) return null;
  return m[1] === '-' ? -minutes : minutes;
}

/**
 * Reads EXIF, XMP and IPTC with exifr. Broken metadata never fails an ingest: the pixels are
 * what matters, so a parse error means "no metadata".
 */
export async function readEmbeddedMetadata(path: string): Promise<EmbeddedMetadata> {
  let tags: Record<string, unknown> | undefined;
  try {
    tags = await exifr.parse(path, {
      tiff: true,
      exif: true,
      gps: true,
      xmp: true,
      iptc: true,
      icc: false,
      jfif: false,
      ihdr: false,
      reviveValues: false,
      translateValues: false,
    });
  } catch {
    return EMPTY;
  }
  if (!tags) return EMPTY;
  const original = parseExifDate(tags.DateTimeOriginal, tags.OffsetTimeOriginal);
  const created = parseExifDate(tags.CreateDate, tags.OffsetTimeDigitized ?? tags.OffsetTime);
  const takenAt = original ?? created;
  const lat = Number(tags.latitude);
  const lon = Number(tags.longitude);
  const orientation = Number(tags.Orientation);
  const rating = Number(tags.Rating);
  const keywords = [tags.subject, tags.Keywords]
    .flatMap((k) => (Array.isArray(k) ? k : k === undefined ? [] : [k]))
    .map(text)
    .filter((k): k is string => k !== null);
  return {
    takenAt,
    takenAtOffset: takenAt
      ? offsetMinutes(
          original ? tags.OffsetTimeOriginal : (tags.OffsetTimeDigitized ?? tags.OffsetTime),
        )
      : null,
    takenAtSource: takenAt ? 'exif' : null,
    make: text(tags.Make),
    model: text(tags.Model),
    lens: text(tags.LensModel),
    exposureTime: positive(tags.ExposureTime),
    fNumber: positive(tags.FNumber),
    iso: positive(tags.ISO),
    focalLength: positive(tags.FocalLength),
    focalLength35mm: positive(tags.FocalLengthIn35mmFormat),
    location:
      Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180
        ? {
            latitude: lat,
            longitude: lon,
            altitude: Number.isFinite(Number(tags.GPSAltitude)) ? Number(tags.GPSAltitude) : null,
          }
        : null,
    orientation:
      Number.isInteger(orientation) && orientation >= 1 && orientation <= 8 ? orientation : null,
    rating: Number.isInteger(rating) && rating >= -1 && rating <= 5 ? rating : null,
    keywords: [...new Set(keywords)],
    description: text(tags.ImageDescription) ?? text(tags.description) ?? text(tags.Caption),
    modifiedAt: parseExifDate(tags.MetadataDate) ?? parseExifDate(tags.ModifyDate),
    raw: {},
  };
}
