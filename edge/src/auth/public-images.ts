import type { Upstream } from '../routes/api-proxy.ts';
import { askCore, CoreUnavailableError } from './ask-core.ts';
import { CachedLookup } from './cached-lookup.ts';

export interface PublicImagesOptions {
  upstream: Upstream;
  /** How long an answer is kept. Default 30 s: a visibility change reaches the edge within it. */
  ttlMs?: number;
  /** Most answers kept. Default 100 000 (a few MB). */
  maxEntries?: number;
}

/**
 * Whether an image is public, as core says at `GET /api/v1/public/images/by-sha/<sha256>`
 * (200 public, 404 not public or no such image). Answers of both kinds are kept briefly, so
 * anonymous thumbnail traffic does not reach core per request; `forget` drops one when the
 * image is deleted.
 */
export class PublicImages {
  private readonly answers: CachedLookup<boolean>;

  constructor(private readonly options: PublicImagesOptions) {
    this.answers = new CachedLookup({
      ttlMs: options.ttlMs ?? 30_000,
      maxEntries: options.maxEntries ?? 100_000,
    });
  }

  /** Throws CoreUnavailableError when core cannot say. */
  isPublic(sha256: string, requestId: string): Promise<boolean> {
    return this.answers.get(sha256, async () => {
      const res = await askCore(
        this.options.upstream,
        `/api/v1/public/images/by-sha/${sha256}`,
        {},
        requestId,
      );
      await res.body?.cancel();
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw new CoreUnavailableError(`core answered ${res.status} to the public-image check`);
    });
  }

  forget(sha256: string): void {
    this.answers.forget(sha256);
  }

  clear(): void {
    this.answers.clear();
  }
}
