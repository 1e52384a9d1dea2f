import type { GeoLocation, SidecarMetadata } from '@aex/shared';
import { z } from 'zod';
import { SidecarError } from './sidecar-error.ts';
import { cleanDescription } from './text-values.ts';
import { makeLocation } from './xmp-fields.ts';

/** Seconds since the epoch, as Takeout writes them: a string of digits (a number is accepted). */
const Timestamp = z
  .object({ timestamp: z.union([z.string().regex(/^-?\d{1,12}$/), z.number().int()]) })
  .loose();

const Geo = z
  .object({
    latitude: z.number(),
    longitude: z.number(),
    altitude: z.number().optional(),
  })
  .loose();

/** The fields AEX reads from a Takeout `photo.jpg.json`; Google adds more, which are ignored. */
const TakeoutJson = z
  .object({
    title: z.string().optional(),
    description: z.string().optional(),
    photoTakenTime: Timestamp.optional(),
    creationTime: Timestamp.optional(),
    photoLastModifiedTime: Timestamp.optional(),
    modificationTime: Timestamp.optional(),
    geoData: Geo.optional(),
    geoDataExif: Geo.optional(),
  })
  .loose()
  .refine((j) => j.photoTakenTime || j.creationTime || j.title !== undefined, {
    message: 'has none of title, photoTakenTime, creationTime: not a Google Takeout photo sidecar',
  });

/** Takeout JSON sidecars are a few hundred bytes; anything far larger is not one. */
const MAX_TAKEOUT_LENGTH = 1024 * 1024;

/**
 * Reads a Google Takeout sidecar (`photo.jpg.json`, `photo.jpg.supplemental-metadata.json`):
 * `photoTakenTime` (UTC seconds, so no zone offset), `description`, `geoData` — else
 * `geoDataExif`, where 0,0 means "no location" — and, as `modifiedAt`, `photoLastModifiedTime`
 * (older exports: `modificationTime`), else `creationTime` (the upload), since the JSON
 * reflects Google's view at least from then on. Throws {@link SidecarError} when the text is
 * not JSON, not a Takeout photo sidecar, or holds values out of range.
 */
export function parseTakeoutJson(json: string): SidecarMetadata {
  if (json.length > MAX_TAKEOUT_LENGTH)
    throw new SidecarError(
      `the Takeout JSON has ${json.length} characters; a sidecar is far smaller`,
    );
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new SidecarError(`the Takeout sidecar is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = TakeoutJson.safeParse(data);
  if (!parsed.success)
    throw new SidecarError(`the Takeout sidecar is not usable: ${z.prettifyError(parsed.error)}`);
  const t = parsed.data;
  const modified = t.photoLastModifiedTime ?? t.modificationTime ?? t.creationTime;
  const out: SidecarMetadata = { source: 'takeout' };
  const takenAt = instant(t.photoTakenTime);
  if (takenAt) {
    out.takenAt = takenAt;
    out.takenAtOffset = null;
  }
  const modifiedAt = instant(modified);
  if (modifiedAt) out.modifiedAt = modifiedAt;
  const description = cleanDescription(t.description);
  if (description) out.description = description;
  const location = place(t.geoData) ?? place(t.geoDataExif);
  if (location) out.location = location;
  return out;
}

function instant(time: z.infer<typeof Timestamp> | undefined): string | undefined {
  if (!time) return undefined;
  const seconds = Number(time.timestamp);
  // 0 is what Takeout writes for "unknown"; the schema's ISO form needs a four-digit year.
  if (seconds <= 0 || seconds >= 253_402_300_800) return undefined;
  return new Date(seconds * 1000).toISOString();
}

function place(geo: z.infer<typeof Geo> | undefined): GeoLocation | null {
  if (!geo) return null;
  if (Math.abs(geo.latitude) > 90 || Math.abs(geo.longitude) > 180)
    throw new SidecarError(`the Takeout location ${geo.latitude},${geo.longitude} is out of range`);
  // Takeout writes altitude 0.0 when it has none; a photo at exactly sea level is rarer.
  return makeLocation(geo.latitude, geo.longitude, geo.altitude ? geo.altitude : null);
}
