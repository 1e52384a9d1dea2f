import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  Image,
  ImageList,
  parseUrlSigningKey,
  UploadResult,
  verifyThumbnailSignature,
} from '@aex/shared';
import {
  type CoreHarness,
  HARNESS_URL_SIGNING_KEY,
  startCoreHarness,
} from '../testing/core-harness.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const KEY = parseUrlSigningKey(HARNESS_URL_SIGNING_KEY);

/** Whether `url` is a signed thumbnail URL of `sha256` the edge would accept now. */
async function acceptedByEdge(url: string, sha256: string, variant: 'thumb' | 'preview') {
  const u = new URL(url, 'http://aex.test');
  if (u.pathname !== `/t/${sha256}/${variant}`) return false;
  const check = await verifyThumbnailSignature({
    sha256,
    variant,
    exp: u.searchParams.get('exp') ?? undefined,
    sig: u.searchParams.get('sig') ?? undefined,
    key: KEY,
  });
  return check.valid;
}

describe('thumbnail URLs in image DTOs', () => {
  let h: CoreHarness;
  let image: Image;
  beforeAll(async () => {
    h = await startCoreHarness('embedded');
    const res = await h.request('/api/v1/images', {
      method: 'POST',
      body: await readFile(join(FIXTURES, 'objects/cat.jpg')),
    });
    image = UploadResult.parse(await res.json()).image;
  }, 30_000);
  afterAll(() => h?.stop());

  test('an internal image: signed URLs (upload answer, GET, list), accepted by the edge', async () => {
    expect(image.visibility).toBe('internal');
    const got = Image.parse(await (await h.request(`/api/v1/images/${image.id}`)).json());
    const list = ImageList.parse(await (await h.request('/api/v1/images')).json());
    const listed = list.items.find((i) => i.id === image.id);
    for (const dto of [image, got, listed]) {
      expect(await acceptedByEdge(dto?.urls.thumb ?? '', image.sha256, 'thumb')).toBe(true);
      expect(await acceptedByEdge(dto?.urls.preview ?? '', image.sha256, 'preview')).toBe(true);
    }
    // Page loads close together get the same URL (the browser cache answers the second).
    expect(got.urls.thumb).toBe(image.urls.thumb);
  });

  test('made public: plain URLs; made internal again: signed again', async () => {
    const patch = (visibility: string) =>
      h.request(`/api/v1/images/${image.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ visibility }),
      });
    const pub = Image.parse(await (await patch('public')).json());
    expect(pub.urls.thumb).toBe(`/t/${image.sha256}/thumb`);
    expect(pub.urls.preview).toBe(`/t/${image.sha256}/preview`);
    const internal = Image.parse(await (await patch('internal')).json());
    expect(await acceptedByEdge(internal.urls.thumb, image.sha256, 'thumb')).toBe(true);
  });
});
