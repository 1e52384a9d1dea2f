import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

/** Where the fixture photos are: `../shared/fixtures/images` beside the repository. */
export const FIXTURES_DIR = resolve(import.meta.dir, '../../../shared/fixtures/images');

/**
 * `count` distinct camera-sized JPEGs to upload: the face and object fixtures and the EXIF
 * sample photos in turn, each scaled so its long side is 1440 − i px (a library's previews
 * are that size; the offset gives every photo its own sha256, so none is a duplicate). One in
 * three is a photo with faces, so the faces task embeds faces rather than only detecting none.
 */
export async function uploadPhotos(count: number): Promise<Uint8Array[]> {
  const faces = ['faces/face_1.jpg', 'faces/face_2.jpg', 'faces/face_13.jpg'];
  const samples = (await readdir(join(FIXTURES_DIR, 'exif-samples/jpg')))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => `exif-samples/jpg/${f}`);
  const others = ['objects/cat.jpg', 'objects/rose.jpg', ...samples];
  const sources = await Promise.all(
    [...faces, ...others].map(async (path) => ({
      path,
      bytes: await readFile(join(FIXTURES_DIR, path)),
    })),
  );
  const faceSources = sources.slice(0, faces.length);
  const otherSources = sources.slice(faces.length);
  const photos: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const pool = i % 3 === 0 ? faceSources : otherSources;
    const source = pool[Math.floor(i / 3) % pool.length] ?? faceSources[0];
    if (!source) throw new Error(`no fixture photos in ${FIXTURES_DIR}`);
    const side = 1440 - (i % 400);
    const jpeg = await sharp(source.bytes)
      .rotate()
      .resize({ width: side, height: side, fit: 'inside' })
      .jpeg({ quality: 90 })
      .toBuffer();
    photos.push(new Uint8Array(jpeg));
  }
  return photos;
}
