import type { GeoLocation } from '@aex/shared';
import type { EmbeddedMetadata } from '../types.ts';
import { parseExifDate } from './exif-date.ts';
import { boundRawTags } from './raw-tags.ts';
import { resolveTakenAt } from './taken-at.ts';
import {
  cleanDescription,
  cleanKeywords,
  cleanText,
  first,
  positiveNumber,
} from './text-values.ts';
import {
  clampRating,
  makeLocation,
  XMP_TAKEN_AT,
  xmpKeywords,
  xmpLocation,
  xmpModifiedAt,
  xmpNumber,
  xmpRating,
  xmpRaw,
  xmpText,
} from './xmp-fields.ts';
import type { XmpProperties } from './xmp-packet.ts';

type Tags = Record<string, unknown>;

/** The blocks read from one file, with exifr's tag names and untranslated values. */
export interface MetadataBlocks {
  ifd0: Tags;
  exif: Tags;
  gps: Tags;
  /** IPTC-IIM record 2, strings already decoded from their charset. */
  iptc: Tags;
  xmp: XmpProperties;
}

/** Metadata with nothing known: what a file without (readable) metadata yields. */
export function emptyMetadata(): EmbeddedMetadata {
  return {
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
}

/**
 * Turns the tags of one file into typed fields. For each field EXIF comes first (it is what
 * the camera wrote), XMP fills the gaps — except rating, keywords and description, which
 * people edit in XMP-aware tools, so XMP comes first there. Never throws on odd values.
 */
export function interpretMetadata(blocks: MetadataBlocks): EmbeddedMetadata {
  const { ifd0, exif, gps, iptc, xmp } = blocks;
  const taken = resolveTakenAt({
    dateTimeOriginal: exif.DateTimeOriginal,
    subSecTimeOriginal: exif.SubSecTimeOriginal,
    offsetTimeOriginal: exif.OffsetTimeOriginal,
    createDate: exif.CreateDate,
    subSecTimeDigitized: exif.SubSecTimeDigitized,
    offsetTimeDigitized: exif.OffsetTimeDigitized,
    offsetTime: exif.OffsetTime,
    xmpDates: XMP_TAKEN_AT.map((key) => xmpRaw(xmp, key)),
    iptcDate: iptc.DateCreated,
    iptcTime: iptc.TimeCreated,
    gpsDate: gps.GPSDateStamp,
    gpsTime: gps.GPSTimeStamp,
  });
  const make = cleanText(ifd0.Make) ?? xmpText(xmp, 'tiff:Make');
  const model = cleanText(ifd0.Model) ?? xmpText(xmp, 'tiff:Model');
  return {
    takenAt: taken?.takenAt ?? null,
    takenAtOffset: taken?.offset ?? null,
    takenAtSource: taken?.source ?? null,
    make,
    model,
    lens: lensName(exif, make) ?? cleanLens(xmpText(xmp, 'aux:Lens', 'exifEX:LensModel')),
    exposureTime: positiveNumber(exif.ExposureTime) ?? xmpNumber(xmp, 'exif:ExposureTime'),
    fNumber: positiveNumber(exif.FNumber) ?? xmpNumber(xmp, 'exif:FNumber'),
    iso: isoSpeed(exif, xmp),
    focalLength: positiveNumber(exif.FocalLength) ?? xmpNumber(xmp, 'exif:FocalLength'),
    focalLength35mm:
      positiveNumber(exif.FocalLengthIn35mmFormat) ??
      positiveNumber(ifd0.FocalLengthIn35mmFormat) ??
      xmpNumber(xmp, 'exif:FocalLengthIn35mmFilm'),
    location: gpsLocation(gps) ?? xmpLocation(xmp),
    orientation: orientation(ifd0.Orientation) ?? orientation(xmpRaw(xmp, 'tiff:Orientation')),
    rating: xmpRating(xmp) ?? clampRating(ifd0.Rating),
    keywords: cleanKeywords([
      ...xmpKeywords(xmp),
      ...list(iptc.Keywords),
      ...xpKeywords(ifd0.XPKeywords),
    ]),
    description:
      cleanDescription(xmpText(xmp, 'dc:description'), [make, model]) ??
      cleanDescription(ifd0.ImageDescription, [make, model]) ??
      cleanDescription(iptc.Caption, [make, model]),
    modifiedAt: xmpModifiedAt(xmp) ?? parseExifDate(ifd0.ModifyDate, exif.OffsetTime),
    raw: boundRawTags({ ifd0, exif, gps, iptc, xmp }),
  };
}

/** EXIF Orientation (0x0112): 1–8 as TIFF 6.0 defines them; anything else is unknown. */
function orientation(value: unknown): number | null {
  const n = Number(first(value));
  return Number.isInteger(n) && n >= 1 && n <= 8 ? n : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

// Placeholders some bodies write when no lens reports itself ("----", "0.0 mm f/0.0").
function cleanLens(value: string | null): string | null {
  if (value === null || !/[a-z1-9]/i.test(value) || /^0(?:\.0)? ?mm f\/0(?:\.0)?$/i.test(value))
    return null;
  return value;
}

/**
 * EXIF 2.3 LensModel (0xA434), prefixed with LensMake (0xA433) when that adds something: a
 * third-party lens ("SIGMA" + "24-70mm F2.8 DG OS HSM") rather than the camera's own maker.
 */
function lensName(exif: Tags, make: string | null): string | null {
  const model = cleanLens(cleanText(exif.LensModel));
  if (model === null) return null;
  const lensMake = cleanText(exif.LensMake);
  if (!lensMake || model.toLowerCase().includes(lensMake.toLowerCase())) return model;
  if (make?.toLowerCase().includes(lensMake.toLowerCase())) return model;
  return `${lensMake} ${model}`;
}

/**
 * EXIF 0x8827 (ISOSpeedRatings, renamed PhotographicSensitivity in EXIF 2.3 and read by
 * exifr as `ISO`). EXIF 2.3 writes 65535 there when the value does not fit and puts it in
 * ISOSpeed (0x8833) or RecommendedExposureIndex (0x8832). XMP exif:ISOSpeedRatings and
 * exifEX:PhotographicSensitivity fill the gap.
 */
function isoSpeed(exif: Tags, xmp: XmpProperties): number | null {
  const iso = positiveNumber(exif.ISO);
  const large = positiveNumber(exif.ISOSpeed) ?? positiveNumber(exif.RecommendedExposureIndex);
  const value =
    (iso === 65535 ? (large ?? iso) : iso) ??
    large ??
    xmpNumber(xmp, 'exif:ISOSpeedRatings', 'exifEX:PhotographicSensitivity');
  return value === null ? null : Math.round(value);
}

/** EXIF GPS IFD: degrees/minutes/seconds rationals signed by their N/S, E/W refs. */
function gpsLocation(gps: Tags): GeoLocation | null {
  const latitude = dms(gps.GPSLatitude, gps.GPSLatitudeRef, 'S');
  const longitude = dms(gps.GPSLongitude, gps.GPSLongitudeRef, 'W');
  const altitude =
    typeof first(gps.GPSAltitude) === 'number' ? (first(gps.GPSAltitude) as number) : null;
  // GPSAltitudeRef (0x0005): 0 above sea level, 1 below (a BYTE, read as a one-byte array).
  const below = Number(first(gps.GPSAltitudeRef)) === 1;
  return makeLocation(latitude, longitude, altitude === null ? null : below ? -altitude : altitude);
}

function dms(value: unknown, ref: unknown, negative: string): number | null {
  const parts =
    typeof value === 'number'
      ? [value]
      : Array.isArray(value) || ArrayBuffer.isView(value)
        ? Array.from(value as ArrayLike<number>, Number)
        : [];
  if (parts.length === 0 || parts.length > 3 || !parts.every(Number.isFinite)) return null;
  const [d = 0, m = 0, s = 0] = parts;
  const degrees = Math.abs(d) + m / 60 + s / 3600;
  const sign = typeof ref === 'string' && ref.trim().toUpperCase().startsWith(negative) ? -1 : 1;
  return sign * degrees;
}

/** Windows XPKeywords (0x9C9E): UCS-2 little-endian, keywords separated by semicolons. */
function xpKeywords(value: unknown): string[] {
  if (!(value instanceof Uint8Array) || value.length > 64 * 1024) return [];
  return new TextDecoder('utf-16le').decode(value).replace(/\0+$/, '').split(';');
}
