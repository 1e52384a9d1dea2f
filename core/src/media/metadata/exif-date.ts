/**
 * Parses an EXIF date (`2008:05:30 15:56:01`, optionally with sub-seconds) or an XMP/ISO
 * date. EXIF dates carry no zone; `offset` (EXIF 2.31 OffsetTimeOriginal, `+02:00`) gives
 * it. Without one the wall-clock time is kept as UTC, which is what the camera displayed.
 * Returns null for anything unparseable or impossible (`0000:00:00 00:00:00` is common).
 */
export function parseExifDate(value: unknown, offset?: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const m =
    /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(
      value.trim(),
    );
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '0', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1800 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  const ms = Math.round(Number(`0.${frac}`) * 1000);
  const utc = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), ms);
  const date = new Date(utc);
  // Date.UTC rolls 31 February into March: reject dates that do not exist.
  if (date.getUTCDate() !== day) return null;
  const minutes = offsetMinutes(zone ?? (typeof offset === 'string' ? offset : undefined));
  return new Date(utc - minutes * 60_000);
}

function offsetMinutes(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone.trim());
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (minutes > 14 * 60) return 0;
  return m[1] === '-' ? -minutes : minutes;
}
