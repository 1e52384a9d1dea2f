/**
 * A sidecar file that cannot be used: not XMP or not a Takeout JSON, over a size limit, or with
 * values out of range. The importer reports it and uploads the photo without the sidecar.
 */
export class SidecarError extends Error {
  override name = 'SidecarError';
}
