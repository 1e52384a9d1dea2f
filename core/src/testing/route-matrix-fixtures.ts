import { newId, UploadResult } from '@aex/shared';
import sharp from 'sharp';
import type { Access } from '../http/authorization/route-policy.ts';
import type { Caller, CoreHarness } from './core-harness.ts';
import { HARNESS_ADMIN } from './harness-credentials.ts';

/** The two kinds of image every route is tried with. */
export type ImageKind = 'public' | 'internal';
export interface StoredImage {
  id: string;
  sha256: string;
}

/** What the matrix builds once per core: an image of each kind, with OCR text to search for. */
export interface MatrixFixture {
  image: Record<ImageKind, StoredImage>;
  /** A word recognised in both images (OCR results), so text search finds them. */
  word: string;
  ocr: { id: string; version: string };
}

export interface CaseRequest {
  path: string;
  init?: RequestInit;
}

/** How to call one route for one image kind, and what a permitted caller gets. */
export interface RouteCase {
  /** Who may call the route, as the issue says. */
  access: Access;
  ok: number;
  /** Prepares what the call needs (as admin) and returns it. */
  request(h: CoreHarness, f: MatrixFixture, kind: ImageKind): Promise<CaseRequest>;
  /** A status that does not follow from the route's access rule alone. */
  expect?(caller: Caller, kind: ImageKind): number | undefined;
}

export const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
export const TUS = { 'tus-resumable': '1.0.0' };

/** A PNG no other call made: its own bytes, so its upload creates an image. */
export async function freshPng(): Promise<Uint8Array<ArrayBuffer>> {
  const [r, g, b] = crypto.getRandomValues(new Uint8Array(3));
  const png = await sharp({
    create: {
      width: 16 + ((r ?? 0) % 16),
      height: 12,
      channels: 3,
      background: { r: r ?? 0, g: g ?? 0, b: b ?? 0 },
    },
  })
    .png()
    .toBuffer();
  return new Uint8Array(png);
}

/** Uploads a new image as admin and gives it `kind`'s visibility. */
export async function freshImage(h: CoreHarness, kind: ImageKind): Promise<StoredImage> {
  const res = await h.request('/api/v1/images', { method: 'POST', body: await freshPng() });
  if (res.status !== 201) throw new Error(`fixture upload: ${res.status} ${await res.text()}`);
  const { image } = UploadResult.parse(await res.json());
  if (kind === 'public') {
    const patched = await h.request(
      `/api/v1/images/${image.id}`,
      json('PATCH', { visibility: 'public' }),
    );
    if (patched.status !== 200) throw new Error(`fixture visibility: ${patched.status}`);
  }
  return { id: image.id, sha256: image.sha256 };
}

export async function albumWith(h: CoreHarness, image?: StoredImage): Promise<string> {
  const res = await h.request('/api/v1/albums', json('POST', { name: `album ${newId()}` }));
  const { id } = (await res.json()) as { id: string };
  if (image) await h.request(`/api/v1/albums/${id}/images`, json('POST', { imageIds: [image.id] }));
  return id;
}

export async function tusUpload(h: CoreHarness, length: number): Promise<string> {
  const res = await h.request('/api/v1/uploads', {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(length) },
  });
  if (res.status !== 201) throw new Error(`fixture tus upload: ${res.status} ${await res.text()}`);
  return new URL(res.headers.get('location') as string, 'http://aex.test').pathname;
}

export async function refreshToken(h: CoreHarness): Promise<string> {
  const res = await h.request(
    '/api/v1/auth/login',
    json('POST', { email: HARNESS_ADMIN.email, password: HARNESS_ADMIN.password }),
  );
  return ((await res.json()) as { refreshToken: string }).refreshToken;
}
