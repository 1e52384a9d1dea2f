import { SidecarMetadata } from '@aex/shared';
import { z } from 'zod';
import { SidecarError } from './sidecar-error.ts';
import { resolveTakenAt } from './taken-at.ts';
import { parseTakeoutJson as readTakeout } from './takeout.ts';
import { cleanDescription, cleanKeywords } from './text-values.ts';
import {
  XMP_TAKEN_AT,
  xmpKeywords,
  xmpLocation,
  xmpModifiedAt,
  xmpRating,
  xmpRaw,
  xmpText,
} from './xmp-fields.ts';
import { parseXmpPacket, type XmpProperties } from './xmp-packet.ts';

export { SidecarError } from './sidecar-error.ts';
export { findSidecars, type SidecarFiles } from './sidecar-names.ts';

/**
 * Reads an XMP sidecar as Lightroom, Bridge, darktable and digiKam write it (`photo.xmp`,
 * `photo.jpg.xmp`): taken-at by the same priority as embedded XMP (exif:DateTimeOriginal,
 * photoshop:DateCreated, xmp:CreateDate) with the zone written in it, dc:description,
 * keywords (dc:subject and the leaves of lr:hierarchicalSubject), xmp:Rating, the
 * exif:GPSLatitude/Longitude/Altitude of the XMP EXIF schema (`48,51.123N`), and
 * xmp:MetadataDate (else xmp:ModifyDate) as `modifiedAt`. Pure; the result is checked
 * against the SidecarMetadata contract. Throws {@link SidecarError} for text that is not an
 * XMP packet or exceeds the parser's limits.
 */
export function parseXmpSidecar(xml: string): SidecarMetadata {
  let props: XmpProperties;
  try {
    props = parseXmpPacket(xml);
  } catch (error) {
    throw new SidecarError(`the XMP sidecar cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const out: SidecarMetadata = { source: 'xmp' };
  const taken = resolveTakenAt({ xmpDates: XMP_TAKEN_AT.map((key) => xmpRaw(props, key)) });
  if (taken) {
    out.takenAt = taken.takenAt.toISOString();
    out.takenAtOffset = taken.offset;
  }
  const modifiedAt = xmpModifiedAt(props);
  if (modifiedAt) out.modifiedAt = modifiedAt.toISOString();
  const description = cleanDescription(xmpText(props, 'dc:description'));
  if (description) out.description = description;
  const keywords = cleanKeywords(xmpKeywords(props));
  if (keywords.length > 0) out.keywords = keywords;
  const rating = xmpRating(props);
  if (rating !== null) out.rating = rating;
  const location = xmpLocation(props);
  if (location) out.location = location;
  return checked(out);
}

/**
 * Reads a Google Takeout JSON sidecar; see takeout.ts for the fields. The result is checked
 * against the SidecarMetadata contract. Throws {@link SidecarError} for anything else.
 */
export function parseTakeoutJson(json: string): SidecarMetadata {
  return checked(readTakeout(json));
}

/** What is sent as `X-Aex-Sidecar` must pass the contract core checks it against. */
function checked(sidecar: SidecarMetadata): SidecarMetadata {
  const result = SidecarMetadata.safeParse(sidecar);
  if (!result.success)
    throw new SidecarError(
      `the sidecar's values are out of range: ${z.prettifyError(result.error)}`,
    );
  return result.data;
}
