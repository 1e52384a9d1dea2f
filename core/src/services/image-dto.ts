import type { Image, ImageTag } from '@aex/shared';
import type { ImageRow, ImageTagRow } from '../db/schema.ts';

/** The API view of an image row and its tags. */
export function toImageDto(row: ImageRow, tags: ImageTagRow[]): Image {
  return {
    id: row.id,
    sha256: row.sha256,
    mime: row.mime,
    format: row.format,
    width: row.width,
    height: row.height,
    byteSize: row.byteSize,
    thumbhash: row.thumbhash,
    takenAt: row.takenAt?.toISOString() ?? null,
    camera:
      row.cameraMake || row.cameraModel ? { make: row.cameraMake, model: row.cameraModel } : null,
    orientation: row.orientation,
    createdAt: row.createdAt.toISOString(),
    urls: { thumb: `/t/${row.sha256}/thumb`, preview: `/t/${row.sha256}/preview` },
    tags: tags
      .filter((t) => t.imageId === row.id)
      .map(
        (t): ImageTag => ({
          label: t.label,
          score: t.score,
          model: { id: t.modelId, version: t.modelVersion },
        }),
      ),
  };
}
