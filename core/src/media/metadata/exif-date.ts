/** A date as written, before any zone is applied to it. */
export interface DateParts {
  /** The wall-clock time read as if it were UTC, in milliseconds since the epoch. */
  local: number;
  /** Minutes east of UTC stated inside the value (`+02:00`, `+1:00`); null when none or `Z`. */
  offset: number | null;
  /** The value ends in `Z`: the instant is known, the zone the photo was taken in is not. */
  utc: boolean;
  /** False for a date without a time (XMP allows `2003-08-31`; IPTC DateCreated alone). */
  hasTime: boolean;
}

// EXIF 2.32 (DateTimeOriginal) writes "YYYY:MM:DD HH:MM:SS"; XMP (an ISO 8601 subset, XMP
// Specification Part 1, Date) writes "YYYY-MM-DDThh:mm:ss.sTZD". Real files mix them
// ("2008:03:15 09:52:01-04:00") and some writers drop the leading zero of the zone hour
// ("+1:00"), so one tolerant pattern reads both; the time is optional, as XMP allows.
const DATE =
  /^(\d{4})[:-](\d{2})[:-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?$/i;

/**
 * Splits an EXIF or XMP date into its wall-clock time and the zone written with it.
 * Returns null for anything unparseable or impossible (`0000:00:00 00:00:00` is common).
 */
export function parseDateParts(value: unknown): DateParts | null {
  if (typeof value !== 'string') return null;
  const m = DATE.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '0', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  if (year < 1800 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (hour > 23 || minute > 59 || Number(s) > 59) return null;
  const ms = Math.round(Number(`0.${frac}`) * 1000);
  const local = Date.UTC(year, month - 1, day, hour, minute, Number(s), ms);
  // Date.UTC rolls 31 February into March: reject dates that do not exist.
  if (new Date(local).getUTCDate() !== day) return null;
  const utc = zone?.toUpperCase() === 'Z';
  const offset = utc ? null : parseOffset(zone);
  if (zone && !utc && offset === null) return null;
  return { local, offset, utc, hasTime: h !== undefined };
}

/**
 * Reads a zone offset as EXIF 2.31 OffsetTimeOriginal writes it (`+02:00`; also `+0200`,
 * `+1:00`) into minutes east of UTC. Null when absent, blank (`   :  `) or outside the
 * -12:00…+14:00 range that real zones use.
 */
export function parseOffset(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  const signed = m[1] === '-' ? -minutes : minutes;
  return signed >= -720 && signed <= 840 && Number(m[3] ?? 0) < 60 ? signed : null;
}

/** The instant a date denotes: its own zone, else `fallbackOffset`, else its wall clock as UTC. */
export function toInstant(parts: DateParts, fallbackOffset: number | null = null): Date {
  const offset = parts.utc ? 0 : (parts.offset ?? fallbackOffset ?? 0);
  return new Date(parts.local - offset * 60_000);
}

/**
 * Parses an EXIF date (`2008:05:30 15:56:01`, optionally with sub-seconds) or an XMP/ISO
 * date. EXIF dates carry no zone; `offset` (EXIF 2.31 OffsetTimeOriginal, `+02:00`) gives
 * it. Without one the wall-clock time is kept as UTC, which is what the camera displayed.
 * Returns null for anything unparseable or impossible (`0000:00:00 00:00:00` is common).
 */
export function parseExifDate(value: unknown, offset?: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  const parts = parseDateParts(value);
  return parts ? toInstant(parts, parseOffset(offset)) : null;
}
