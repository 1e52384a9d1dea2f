import type { SidecarMetadata } from '@aex/shared';
import type { EmbeddedMetadata, ResolvedMetadata } from '../types.ts';

export interface MetadataOverrides {
  sidecar?: SidecarMetadata;
  /** The file's modification time as the client reported it: the last resort for taken-at. */
  fileModifiedAt?: Date;
}

/**
 * The metadata stored for an image: the embedded values, with a sidecar's where the sidecar
 * is newer than the embedded metadata (or the file has none), and the file time when nothing
 * says when the photo was taken.
 */
export function resolveMetadata(
  embedded: EmbeddedMetadata,
  overrides: MetadataOverrides = {},
): ResolvedMetadata {
  const { modifiedAt: _modifiedAt, ...resolved }: EmbeddedMetadata = embedded;
  const out: ResolvedMetadata = { ...resolved };
  const sidecar = overrides.sidecar;
  if (sidecar) {
    const sidecarTime = sidecar.modifiedAt ? new Date(sidecar.modifiedAt) : null;
    const newer = !embedded.modifiedAt || !sidecarTime || sidecarTime > embedded.modifiedAt;
    const take = <T>(value: T | null | undefined, current: T | null): T | null =>
      value !== undefined && value !== null && (newer || current === null) ? value : current;
    const takenAt = take(sidecar.takenAt ? new Date(sidecar.takenAt) : null, out.takenAt);
    if (takenAt !== out.takenAt) {
      out.takenAt = takenAt;
      out.takenAtOffset = sidecar.takenAtOffset ?? null;
      out.takenAtSource = 'sidecar';
    }
    out.description = take(sidecar.description, out.description);
    out.rating = take(sidecar.rating, out.rating);
    out.location = take(sidecar.location, out.location);
    if (sidecar.keywords?.length)
      out.keywords = [...new Set([...out.keywords, ...sidecar.keywords])];
  }
  if (!out.takenAt && overrides.fileModifiedAt) {
    out.takenAt = overrides.fileModifiedAt;
    out.takenAtOffset = null;
    out.takenAtSource = 'file';
  }
  return out;
}
