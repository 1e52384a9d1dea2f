import { type DateParts, parseDateParts, parseOffset, toInstant } from './exif-date.ts';
import { first } from './text-values.ts';

/** When a photo was taken, where that was read, and the zone it was taken in when known. */
export interface TakenAt {
  takenAt: Date;
  /** Minutes east of UTC; null when unknown. */
  offset: number | null;
  source: 'exif' | 'xmp' | 'gps';
}

/** The date tags a file may hold, as read (strings, rationals); any may be missing. */
export interface DateTags {
  /** EXIF 0x9003 DateTimeOriginal, 0x9291 SubSecTimeOriginal, 0x9011 OffsetTimeOriginal. */
  dateTimeOriginal?: unknown;
  subSecTimeOriginal?: unknown;
  offsetTimeOriginal?: unknown;
  /** EXIF 0x9004 CreateDate (DateTimeDigitized), 0x9292 SubSec…, 0x9012 OffsetTimeDigitized. */
  createDate?: unknown;
  subSecTimeDigitized?: unknown;
  offsetTimeDigitized?: unknown;
  /** EXIF 0x9010 OffsetTime (of ModifyDate). */
  offsetTime?: unknown;
  /** XMP dates in priority order (see XMP_TAKEN_AT). */
  xmpDates?: unknown[];
  /** IPTC-IIM 2:55 DateCreated (CCYYMMDD) and 2:60 TimeCreated (HHMMSS±HHMM). */
  iptcDate?: unknown;
  iptcTime?: unknown;
  /** EXIF GPS 0x001D GPSDateStamp and 0x0007 GPSTimeStamp: UTC by definition. */
  gpsDate?: unknown;
  gpsTime?: unknown;
}

/**
 * Picks taken-at by the priority — EXIF DateTimeOriginal → CreateDate → XMP → GPS
 * time — with its zone offset: the EXIF 2.31 offset tag; else the zone of an XMP date that
 * shows the same wall-clock time (Lightroom and Photoshop write one); else the difference
 * between the local time and the GPS UTC time, rounded to 15 minutes. IPTC DateCreated is
 * read after XMP as source `xmp`: IPTC Core defines photoshop:DateCreated as its XMP form.
 */
export function resolveTakenAt(tags: DateTags): TakenAt | null {
  const xmp = (tags.xmpDates ?? []).map(parseDateParts).filter((p): p is DateParts => p !== null);
  const gpsUtc = gpsInstant(tags.gpsDate, tags.gpsTime);
  const exif: [unknown, unknown, unknown[]][] = [
    [
      tags.dateTimeOriginal,
      tags.subSecTimeOriginal,
      [tags.offsetTimeOriginal, tags.offsetTimeDigitized, tags.offsetTime],
    ],
    [
      tags.createDate,
      tags.subSecTimeDigitized,
      [tags.offsetTimeDigitized, tags.offsetTimeOriginal, tags.offsetTime],
    ],
  ];
  for (const [value, subSec, offsets] of exif) {
    const parts = withSubSeconds(parseDateParts(first(value)), subSec);
    if (!parts) continue;
    // Cameras write the three offset tags from one zone setting, so any of them will do.
    const stated = parts.offset ?? offsets.map(parseOffset).find((o) => o !== null) ?? null;
    return located(parts, stated ?? deriveOffset(parts, xmp, gpsUtc), 'exif');
  }
  const fromXmp = xmp[0] ?? iptcParts(tags.iptcDate, tags.iptcTime);
  if (fromXmp) {
    const offset =
      fromXmp.utc || !fromXmp.hasTime
        ? fromXmp.offset
        : (fromXmp.offset ?? deriveOffset(fromXmp, [], gpsUtc));
    return located(fromXmp, offset, 'xmp');
  }
  if (gpsUtc !== null) return { takenAt: new Date(gpsUtc), offset: null, source: 'gps' };
  return null;
}

function located(parts: DateParts, offset: number | null, source: TakenAt['source']): TakenAt {
  return {
    takenAt: toInstant(parts, offset),
    offset: parts.utc ? null : offset,
    source,
  };
}

/** EXIF keeps fractions of a second apart (SubSecTimeOriginal "45" = .45 s). */
function withSubSeconds(parts: DateParts | null, subSec: unknown): DateParts | null {
  if (!parts || parts.local % 1000 !== 0) return parts;
  const digits =
    typeof subSec === 'string' ? subSec.trim() : typeof subSec === 'number' ? String(subSec) : '';
  if (!/^\d{1,9}$/.test(digits)) return parts;
  return { ...parts, local: parts.local + Math.round(Number(`0.${digits}`) * 1000) };
}

/**
 * A zone for a local time that states none: from an XMP date with the same wall clock, else
 * from the GPS UTC time — only when the difference is a real zone (−12:00…+14:00) within
 * five minutes of a multiple of 15, since a GPS fix can be stale and camera clocks drift.
 */
function deriveOffset(parts: DateParts, xmp: DateParts[], gpsUtc: number | null): number | null {
  if (!parts.hasTime) return null;
  for (const x of xmp)
    if (x.hasTime && x.offset !== null && Math.abs(x.local - parts.local) < 1000) return x.offset;
  if (gpsUtc === null) return null;
  const minutes = (parts.local - gpsUtc) / 60_000;
  const rounded = Math.round(minutes / 15) * 15;
  if (Math.abs(minutes - rounded) > 5 || rounded < -720 || rounded > 840) return null;
  return rounded === 0 ? 0 : rounded;
}

/** GPSDateStamp "2008:10:23" + GPSTimeStamp [14, 27, 7.24] → ms since the epoch (UTC). */
export function gpsInstant(date: unknown, time: unknown): number | null {
  const d = typeof date === 'string' ? /^(\d{4})[:-](\d{2})[:-](\d{2})/.exec(date.trim()) : null;
  if (!d) return null;
  let hms: number[];
  if (typeof time === 'string') hms = time.split(':').map(Number);
  else if (Array.isArray(time) || ArrayBuffer.isView(time))
    hms = Array.from(time as ArrayLike<number>, Number);
  else return null;
  const [h = NaN, m = 0, s = 0] = hms;
  if (![h, m, s].every(Number.isFinite) || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s >= 61)
    return null;
  const parts = parseDateParts(`${d[1]}-${d[2]}-${d[3]}T00:00:00Z`);
  if (!parts) return null;
  return parts.local + Math.round(((h * 60 + m) * 60 + s) * 1000);
}

function iptcParts(date: unknown, time: unknown): DateParts | null {
  const d = typeof date === 'string' ? /^(\d{4})(\d{2})(\d{2})$/.exec(date.trim()) : null;
  if (!d) return null;
  const t =
    typeof time === 'string'
      ? /^(\d{2})(\d{2})(\d{2})([+-]\d{2})?(\d{2})?$/.exec(time.trim())
      : null;
  if (!t) return parseDateParts(`${d[1]}-${d[2]}-${d[3]}`);
  const zone = t[4] ? `${t[4]}:${t[5] ?? '00'}` : '';
  return parseDateParts(`${d[1]}-${d[2]}-${d[3]}T${t[1]}:${t[2]}:${t[3]}${zone}`);
}
