import type { Image, ImageFace, ImageTag, ImageTextLine, TakenAtSource } from '@aex/shared';
import type { ImageRow } from '../db/schema.ts';
import { type ImageResults, NO_RESULTS } from './results/active-results.ts';
import type { DerivedUrls } from './thumbnail-urls.ts';

/**
 * The API view of an image row and its results (those of the active model versions). Face
 * embeddings are never shown: they are the vector index's, and say nothing to a person.
 * `urls` are the derived files' URLs from ThumbnailUrls (signed for an internal image).
 */
export function toImageDto(
  row: ImageRow,
  urls: DerivedUrls,
  results: ImageResults = NO_RESULTS,
): Image {
  const hasExposure = [
    row.exposureTime,
    row.fNumber,
    row.iso,
    row.focalLength,
    row.focalLength35mm,
  ].some((v) => v !== null);
  return {
    id: row.id,
    sha256: row.sha256,
    mime: row.mime,
    format: row.format,
    width: row.width,
    height: row.height,
    byteSize: row.byteSize,
    thumbhash: row.thumbhash,
    dominantColor: row.dominantColor,
    takenAt: row.takenAt?.toISOString() ?? null,
    takenAtOffset: row.takenAtOffset,
    takenAtSource: row.takenAtSource as TakenAtSource | null,
    camera:
      row.cameraMake || row.cameraModel ? { make: row.cameraMake, model: row.cameraModel } : null,
    lens: row.lensModel,
    exposure: hasExposure
      ? {
          exposureTime: row.exposureTime,
          fNumber: row.fNumber,
          iso: row.iso,
          focalLength: row.focalLength,
          focalLength35mm: row.focalLength35mm,
        }
      : null,
    location:
      row.latitude !== null && row.longitude !== null
        ? { latitude: row.latitude, longitude: row.longitude, altitude: row.altitude }
        : null,
    orientation: row.orientation,
    rating: row.rating,
    description: row.description,
    keywords: row.keywords,
    visibility: row.visibility,
    originalName: row.originalName,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    urls: {
      thumb: urls.thumb,
      preview: urls.preview,
      original: `/api/v1/images/${row.id}/original`,
    },
    tags: results.tags.map(
      (t): ImageTag => ({
        label: t.label,
        score: t.score,
        model: { id: t.modelId, version: t.modelVersion },
      }),
    ),
    faces: results.faces.map(
      (f): ImageFace => ({
        id: f.id,
        box: { x: f.x, y: f.y, width: f.width, height: f.height },
        landmarks: f.landmarks,
        score: f.score,
        model: { id: f.modelId, version: f.modelVersion },
        detector: { id: f.detectorId, version: f.detectorVersion },
      }),
    ),
    text: results.text.map(
      (l): ImageTextLine => ({ text: l.text, confidence: l.confidence, polygon: l.polygon }),
    ),
  };
}
