import {
  DEFAULT_SIGNED_URL_TTL_SEC,
  type DerivedVariant,
  signThumbnailUrl,
  type UrlSigningKey,
  type Visibility,
} from '@aex/shared';

/** The URLs of an image's derived files, as the image DTO carries them. */
export interface DerivedUrls {
  thumb: string;
  preview: string;
}

export interface ThumbnailUrlsOptions {
  /** AEX_URL_SIGNING_KEY, the one the edge checks signatures with. */
  key: UrlSigningKey;
  /** Least lifetime of a signed URL. Default 1 h. */
  ttlSec?: number;
  /** Milliseconds clock. Default `Date.now`. */
  now?: () => number;
}

/**
 * Thumbnail and preview URLs for the image DTO (issue 5). A public image's are plain
 * `/t/<sha256>/<variant>`: the edge serves them to anyone, and caches everywhere may keep
 * them. An internal image's are signed (`?exp=…&sig=…`), so the gallery's `<img>` tags, which
 * cannot send a token, still load them; the expiry is rounded to a bucket so repeated page
 * loads reuse the URL and the browser's cache.
 */
export class ThumbnailUrls {
  constructor(private readonly options: ThumbnailUrlsOptions) {}

  async of(image: { sha256: string; visibility: Visibility }): Promise<DerivedUrls> {
    const [thumb, preview] = await Promise.all([
      this.url(image, 'thumb'),
      this.url(image, 'preview'),
    ]);
    return { thumb, preview };
  }

  private url(image: { sha256: string; visibility: Visibility }, variant: DerivedVariant) {
    if (image.visibility === 'public') return Promise.resolve(`/t/${image.sha256}/${variant}`);
    return signThumbnailUrl({
      sha256: image.sha256,
      variant,
      key: this.options.key,
      now: (this.options.now ?? Date.now)(),
      ttlSec: this.options.ttlSec ?? DEFAULT_SIGNED_URL_TTL_SEC,
    });
  }
}
