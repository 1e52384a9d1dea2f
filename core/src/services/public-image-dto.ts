import type { Image, PublicImage } from '@aex/shared';

/**
 * The public view of a public image (see `PublicImage`): built field by field, so a field
 * added to `Image` later is not public until someone decides it should be.
 */
export function toPublicImage(image: Image): PublicImage {
  return {
    id: image.id,
    sha256: image.sha256,
    width: image.width,
    height: image.height,
    format: image.format,
    thumbhash: image.thumbhash,
    dominantColor: image.dominantColor,
    description: image.description,
    tags: image.tags.map((t) => t.label),
    // Public thumbnails need no signature: the edge serves them to anyone, immutable.
    urls: { thumb: `/t/${image.sha256}/thumb`, preview: `/t/${image.sha256}/preview` },
  };
}
