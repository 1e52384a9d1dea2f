import exifr from 'exifr';
import { parseExifDate } from './exif-date.ts';

export interface BasicExif {
  takenAt: Date | null;
  make: string | null;
  model: string | null;
  orientation: number | null;
}

const EMPTY: BasicExif = { takenAt: null, make: null, model: null, orientation: null };

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  // Camera strings are often NUL- or space-padded to a fixed width.
  const clean = value.replace(/\0/g, '').trim();
  return clean.length > 0 && clean.length <= 200 ? clean : null;
}

/**
 * Reads the metadata the foundation needs: when the photo was taken (DateTimeOriginal,
 * then CreateDate) and by which camera. Broken metadata never fails an ingest: the pixels
 * are what matters, so a parse error means "no metadata".
 */
export async function readBasicExif(path: string): Promise<BasicExif> {
  let tags: Record<string, unknown> | undefined;
  try {
    tags = await exifr.parse(path, {
      tiff: true,
      exif: true,
      xmp: true,
      gps: false,
      iptc: false,
      icc: false,
      reviveValues: false,
      pick: [
        'DateTimeOriginal',
        'CreateDate',
        'OffsetTimeOriginal',
        'OffsetTime',
        'Make',
        'Model',
        'Orientation',
      ],
    });
  } catch {
    return EMPTY;
  }
  if (!tags) return EMPTY;
  const orientation = Number(tags.Orientation);
  return {
    takenAt:
      parseExifDate(tags.DateTimeOriginal, tags.OffsetTimeOriginal) ??
      parseExifDate(tags.CreateDate, tags.OffsetTime),
    make: text(tags.Make),
    model: text(tags.Model),
    orientation:
      Number.isInteger(orientation) && orientation >= 1 && orientation <= 8 ? orientation : null,
  };
}
