import { describe, expect, test } from 'bun:test';
import { verifyThumbnailSignature } from '@aex/shared';
import { ThumbnailUrls } from './thumbnail-urls.ts';

const SHA = 'c'.repeat(64);
const KEY = crypto.getRandomValues(new Uint8Array(32));

describe('ThumbnailUrls', () => {
  test('a public image gets plain URLs, cacheable anywhere', async () => {
    const urls = await new ThumbnailUrls({ key: KEY }).of({ sha256: SHA, visibility: 'public' });
    expect(urls).toEqual({ thumb: `/t/${SHA}/thumb`, preview: `/t/${SHA}/preview` });
  });

  test('an internal image gets signed URLs the edge accepts for an hour or more', async () => {
    const now = Date.now();
    const urls = await new ThumbnailUrls({ key: KEY, now: () => now }).of({
      sha256: SHA,
      visibility: 'internal',
    });
    for (const variant of ['thumb', 'preview'] as const) {
      const url = new URL(urls[variant], 'http://aex.test');
      expect(url.pathname).toBe(`/t/${SHA}/${variant}`);
      const check = await verifyThumbnailSignature({
        sha256: SHA,
        variant,
        exp: url.searchParams.get('exp') ?? undefined,
        sig: url.searchParams.get('sig') ?? undefined,
        key: KEY,
        now,
      });
      expect(check.valid && check.remainingSec >= 3600).toBe(true);
    }
    // Another key (another installation) does not accept them.
    const url = new URL(urls.thumb, 'http://aex.test');
    const foreign = await verifyThumbnailSignature({
      sha256: SHA,
      variant: 'thumb',
      exp: url.searchParams.get('exp') ?? undefined,
      sig: url.searchParams.get('sig') ?? undefined,
      key: crypto.getRandomValues(new Uint8Array(32)),
    });
    expect(foreign.valid).toBe(false);
  });

  test('the same URL for a while, so the browser cache answers repeated page loads', async () => {
    let now = Date.UTC(2031, 5, 1, 10, 0, 30);
    const urls = new ThumbnailUrls({ key: KEY, now: () => now });
    const first = await urls.of({ sha256: SHA, visibility: 'internal' });
    now += 9 * 60_000;
    expect(await urls.of({ sha256: SHA, visibility: 'internal' })).toEqual(first);
    now += 2 * 60_000;
    expect((await urls.of({ sha256: SHA, visibility: 'internal' })).thumb).not.toBe(first.thumb);
  });
});
