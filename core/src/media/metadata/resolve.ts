import type { SidecarMetadata } from '@aex/shared';
import type { EmbeddedMetadata, ResolvedMetadata } from '../types.ts';
import { cleanKeywords } from './text-values.ts';

export interface MetadataOverrides {
  /** What the importer read from the photo's sidecar (`X-Aex-Sidecar`). */
  sidecar?: SidecarMetadata;
  /** The file's modification time as the client reported it: the last resort for taken-at. */
  fileModifiedAt?: Date;
}

/**
 * The metadata stored for an image (issue 3, "Metadata"): the embedded values, with a
 * sidecar's value for each field the sidecar has where
 * - the sidecar is newer: its `modifiedAt` is after the embedded `modifiedAt`, or the file
 *   states no `modifiedAt` (then nothing says the embedded values are the more recent), or
 * - the file has no value for that field (a rating of 0, "unrated", counts as none).
 * A sidecar without `modifiedAt` beside a file with one is not known to be newer, so it only
 * fills gaps. A null or absent sidecar value never clears an embedded one. Keywords are the
 * union of both. A taken-at from the sidecar comes with the sidecar's offset and source
 * `sidecar`. When nothing says when the photo was taken, the file time does (source `file`).
 */
export function resolveMetadata(
  embedded: EmbeddedMetadata,
  overrides: MetadataOverrides = {},
): ResolvedMetadata {
  const { modifiedAt, ...rest } = embedded;
  const out: ResolvedMetadata = { ...rest, keywords: [...rest.keywords] };
  const sidecar = overrides.sidecar;
  if (sidecar) {
    const sidecarTime = sidecar.modifiedAt ? new Date(sidecar.modifiedAt) : null;
    const newer = modifiedAt === null || (sidecarTime !== null && sidecarTime > modifiedAt);
    const wins = <T>(value: T | null | undefined, current: unknown): value is T =>
      value !== undefined && value !== null && (newer || current === null);
    if (wins(sidecar.takenAt, out.takenAt)) {
      out.takenAt = new Date(sidecar.takenAt);
      out.takenAtOffset = sidecar.takenAtOffset ?? null;
      out.takenAtSource = 'sidecar';
    }
    if (wins(sidecar.description, out.description)) out.description = sidecar.description;
    // Rating 0 is "unrated" (XMP xmp:Rating), which cameras write by default: a gap to fill.
    if (wins(sidecar.rating, out.rating === 0 ? null : out.rating)) out.rating = sidecar.rating;
    if (wins(sidecar.location, out.location)) out.location = sidecar.location;
    if (sidecar.keywords?.length)
      out.keywords = cleanKeywords([...out.keywords, ...sidecar.keywords]);
  }
  const fileTime = overrides.fileModifiedAt;
  if (
    out.takenAt === null &&
    fileTime &&
    Number.isFinite(fileTime.getTime()) &&
    fileTime.getTime() > 0
  ) {
    out.takenAt = fileTime;
    out.takenAtOffset = null;
    out.takenAtSource = 'file';
  }
  return out;
}
