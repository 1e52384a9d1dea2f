import { beforeAll, describe, expect, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import sharp from 'sharp';
import { processImage } from './image-processor.ts';
import { detectMediaType, SUPPORTED_FORMATS_TEXT } from './media-type.ts';
import { animated, encodeJxl, jxlContainer } from './testing/encoders.ts';
import { contentDistance, fixture, LIMIT, scratch } from './testing/images.ts';

// The generated inputs are all this picture at 640 × 480.
let base: Buffer;
let files: Record<string, string>;

beforeAll(async () => {
  const out = await scratch('formats');
  base = await sharp(fixture('exif-samples/jpg/Canon_40D.jpg'))
    .resize(640, 480, { fit: 'fill' })
    .png()
    .toBuffer();
  const jxl = await encodeJxl(base);
  const encoded: Record<string, Buffer> = {
    png: await sharp(base).png().toBuffer(),
    webp: await sharp(base).webp().toBuffer(),
    avif: await sharp(base).avif({ effort: 2 }).toBuffer(),
    tiff: await sharp(base).tiff().toBuffer(),
    gif: await animated(base),
    'webp-animated': await animated(base, 'webp'),
    jxl,
    'jxl-container': jxlContainer(jxl),
  };
  files = {};
  // No extensions: the type must come from the bytes.
  for (const [name, bytes] of Object.entries(encoded)) files[name] = await out.write(name, bytes);
});

describe('every generated format decodes to its size, with the right content', () => {
  test.each([
    ['png', 'image/png', 'vips'],
    ['webp', 'image/webp', 'vips'],
    ['avif', 'image/avif', 'vips'],
    ['tiff', 'image/tiff', 'vips'],
    ['gif', 'image/gif', 'vips'],
    ['webp-animated', 'image/webp', 'vips'],
    ['jxl', 'image/jxl', 'jxl'],
    ['jxl-container', 'image/jxl', 'jxl'],
  ])('%s', async (name, mime, decoder) => {
    const path = files[name] as string;
    const type = await detectMediaType(path);
    expect(type).toMatchObject({ supported: true, mime, decoder });
    if (!type.supported) return;
    const out = await processImage(path, type, LIMIT);
    expect([out.width, out.height]).toEqual([640, 480]);
    const preview = await sharp(out.preview).metadata();
    expect([preview.format, preview.width, preview.height]).toEqual(['webp', 640, 480]);
    const thumb = await sharp(out.thumb).metadata();
    expect([thumb.width, thumb.height]).toEqual([256, 192]);
    // Animations: the first frame (the picture), not the blue second one; GIF palette noise.
    expect(await contentDistance(out.preview, base)).toBeLessThan(name === 'gif' ? 10 : 6);
  });
});

describe('orientation is applied for every format that carries it', () => {
  // sharp writes EXIF Orientation into JPEG, PNG (eXIf), WebP and TIFF, and `irot` into AVIF.
  test.each(['jpeg', 'png', 'webp', 'tiff', 'avif'] as const)(
    '%s with orientation 6',
    async (format) => {
      const out = await scratch('orient');
      const bytes = await sharp(base).withMetadata({ orientation: 6 })[format]().toBuffer();
      const path = await out.write(format, bytes);
      const type = await detectMediaType(path);
      if (!type.supported) throw new Error(`${format} not detected`);
      const result = await processImage(path, type, LIMIT);
      expect([result.width, result.height]).toEqual([480, 640]);
      const upright = await sharp(base).rotate(90).toBuffer();
      expect(await contentDistance(result.preview, upright)).toBeLessThan(6);
      expect(await contentDistance(result.preview, base)).toBeGreaterThan(15);
    },
  );
});

describe('fixtures', () => {
  test('a camera JPEG', async () => {
    const path = fixture('exif-samples/jpg/Canon_40D.jpg');
    const type = await detectMediaType(path);
    if (!type.supported) throw new Error('JPEG not detected');
    const out = await processImage(path, type, LIMIT);
    expect([type.mime, out.width, out.height]).toEqual(['image/jpeg', 100, 68]);
  });

  test('every TIFF fixture decodes at its size', async () => {
    const dir = fixture('exif-samples/tiff');
    const names = (await readdir(dir)).filter((name) => name.endsWith('.tiff'));
    expect(names.length).toBe(7);
    for (const name of names) {
      const path = `${dir}/${name}`;
      const type = await detectMediaType(path);
      if (!type.supported) throw new Error(`${name} not detected`);
      const { width, height } = await sharp(path).metadata();
      const out = await processImage(path, type, LIMIT);
      expect([name, out.width, out.height]).toEqual([name, width, height]);
    }
  });

  // Every HEIC/HEIF fixture decodes with libheif (WebAssembly). Their orientation is `irot`:
  // the iPhone writes irot 90° CW *and* EXIF Orientation 6 (applied once: portrait, not
  // landscape again); the Nokia writes irot 90° CW with EXIF Orientation 1 (irot wins, as
  // ISO/IEC 23008-12 and libheif/libvips/Apple have it, though its pixels then look sideways).
  test.each([
    ['IMG_5195.HEIC', 2566, 3313, 1],
    ['samplefilehub.heif', 640, 426, 1],
    ['mobile/HMD_Nokia_8.3_5G.heif', 3456, 4608, 6],
    ['mobile/HMD_Nokia_8.3_5G_hdr.heif', 4608, 3456, 1],
    ['mobile/iphone_13_pro_max.HEIC', 3024, 4032, 6],
  ])(
    'HEIC %s is %d × %d, orientation %d',
    async (name, width, height, orientation) => {
      const path = fixture(`exif-samples/heic/${name}`);
      const type = await detectMediaType(path);
      expect(type).toMatchObject({ supported: true, mime: 'image/heic', decoder: 'heif' });
      if (!type.supported) return;
      const out = await processImage(path, type, LIMIT);
      expect([out.width, out.height, out.orientation]).toEqual([width, height, orientation]);
      const preview = await sharp(out.preview).metadata();
      expect((preview.width ?? 0) > (preview.height ?? 0)).toBe(width > height);
      // Photos are opaque: the alpha channel libheif returns is dropped.
      expect(preview.hasAlpha).toBe(false);
    },
    30_000,
  );
});

test('SUPPORTED_FORMATS_TEXT names every format', () => {
  for (const name of ['JPEG', 'PNG', 'WebP', 'AVIF', 'GIF', 'TIFF', 'HEIC', 'HEIF', 'JPEG XL']) {
    expect(SUPPORTED_FORMATS_TEXT).toContain(name);
  }
  for (const raw of ['CR2', 'NEF', 'ARW', 'DNG', 'RAF', 'RW2']) {
    expect(SUPPORTED_FORMATS_TEXT).toContain(raw);
  }
});
