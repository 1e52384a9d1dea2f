import { describe, expect, test } from 'bun:test';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { CorruptImageError, ImageTooLargeError, processImage } from './image-processor.ts';
import { detectMediaType } from './media-type.ts';
import { readEmbeddedMetadata } from './metadata/read-embedded.ts';

const FIXTURES = resolve(import.meta.dir, '../../../../shared/fixtures/images');
const jpg = (name: string) => join(FIXTURES, 'exif-samples/jpg', name);
const LIMIT = { maxPixels: 100_000_000 };
const JPEG = { supported: true, mime: 'image/jpeg', format: 'jpeg', decoder: 'vips' } as const;

describe('processImage', () => {
  test('a 12 MP JPEG gives a 1440 px preview, a 256 px thumb and a thumbhash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-12mp-'));
    const path = join(dir, 'big.jpg');
    await sharp(jpg('Canon_40D.jpg')).resize(4000, 3000, { fit: 'fill' }).jpeg().toFile(path);
    const out = await processImage(path, JPEG, LIMIT);
    expect([out.width, out.height]).toEqual([4000, 3000]);
    const preview = await sharp(out.preview).metadata();
    const thumb = await sharp(out.thumb).metadata();
    expect(preview.format).toBe('webp');
    expect(thumb.format).toBe('webp');
    expect([preview.width, preview.height]).toEqual([1440, 1080]);
    expect(Math.max(thumb.width ?? 0, thumb.height ?? 0)).toBe(256);
    expect([thumb.width, thumb.height]).toEqual([256, 192]);
    const decoded = thumbHashToRGBA(Buffer.from(out.thumbhash, 'base64'));
    expect(decoded.w).toBeGreaterThan(0);
    expect(decoded.rgba.length).toBe(decoded.w * decoded.h * 4);
  });

  test('small images are not enlarged', async () => {
    const out = await processImage(join(FIXTURES, 'objects/cat.jpg'), JPEG, LIMIT);
    expect([out.width, out.height]).toEqual([300, 168]);
    const preview = await sharp(out.preview).metadata();
    expect([preview.width, preview.height]).toEqual([300, 168]);
  });

  test('EXIF orientation is applied: dimensions and pixels come out upright', async () => {
    const upright = await processImage(jpg('orientation/landscape_1.jpg'), JPEG, LIMIT);
    const rotated = await processImage(jpg('orientation/landscape_6.jpg'), JPEG, LIMIT);
    expect(rotated.orientation).toBe(6);
    expect([rotated.width, rotated.height]).toEqual([upright.width, upright.height]);
    const a = await sharp(upright.thumb)
      .resize(32, 24, { fit: 'fill' })
      .greyscale()
      .raw()
      .toBuffer();
    const b = await sharp(rotated.thumb)
      .resize(32, 24, { fit: 'fill' })
      .greyscale()
      .raw()
      .toBuffer();
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
    expect(diff / a.length).toBeLessThan(12);
  });

  test('a truncated JPEG is a CorruptImageError naming the decoder problem', async () => {
    const error = await processImage(jpg('corrupted.jpg'), JPEG, LIMIT).catch((e) => e);
    expect(error).toBeInstanceOf(CorruptImageError);
    expect(error.message).toMatch(/corrupt|premature/i);
  });

  test('an image over the pixel limit is refused before it is decoded', async () => {
    const error = await processImage(jpg('Canon_40D.jpg'), JPEG, { maxPixels: 1000 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error.limit).toBe(1000);
  });

  test('a PNG whose header claims 50,000 × 50,000 pixels is refused by the limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-bomb-'));
    const path = join(dir, 'bomb.png');
    // A real PNG header (IHDR 50000×50000) with no data: the limit fires on the header alone.
    const small = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const bomb = Buffer.from(small);
    bomb.writeUInt32BE(50_000, 16);
    bomb.writeUInt32BE(50_000, 20);
    await writeFile(path, bomb);
    const type = await detectMediaType(path);
    expect(type).toMatchObject({ supported: true, mime: 'image/png' });
    if (!type.supported) return;
    const error = await processImage(path, type, LIMIT).catch((e) => e);
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error.pixels).toBe(2_500_000_000);
  });
});

describe('detectMediaType', () => {
  test('the type comes from the bytes, not the name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aex-type-'));
    const disguised = join(dir, 'photo.jpg');
    await copyFile(join(FIXTURES, 'objects/tench_n01440764.png'), disguised);
    expect(await detectMediaType(disguised)).toEqual({
      supported: true,
      mime: 'image/png',
      format: 'png',
      decoder: 'vips',
    });
  });

  test('HEIC is read by the WebAssembly decoder; PDFs and SVGs are refused', async () => {
    const heic = await detectMediaType(join(FIXTURES, 'exif-samples/heic/IMG_5195.HEIC'));
    expect(heic).toEqual({ supported: true, mime: 'image/heic', format: 'heic', decoder: 'heif' });
    const dir = await mkdtemp(join(tmpdir(), 'aex-type-'));
    await writeFile(join(dir, 'a.pdf'), '%PDF-1.7\n1 0 obj\n<<>>\nendobj\n');
    expect(await detectMediaType(join(dir, 'a.pdf'))).toEqual({
      supported: false,
      detected: 'application/pdf',
    });
    await writeFile(join(dir, 'b.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    expect(await detectMediaType(join(dir, 'b.svg'))).toEqual({
      supported: false,
      detected: 'image/svg+xml',
    });
  });

  test('an AVIF whose major brand is the generic mif1 is still AVIF, decoded by libvips', async () => {
    const avif = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#f00' } })
      .avif()
      .toBuffer();
    expect(avif.toString('latin1', 8, 12)).toBe('avif');
    avif.write('mif1', 8, 'latin1');
    const dir = await mkdtemp(join(tmpdir(), 'aex-type-'));
    await writeFile(join(dir, 'image'), avif);
    const type = await detectMediaType(join(dir, 'image'));
    expect(type).toEqual({ supported: true, mime: 'image/avif', format: 'avif', decoder: 'vips' });
    if (!type.supported) return;
    const out = await processImage(join(dir, 'image'), type, LIMIT);
    expect([out.width, out.height]).toEqual([64, 48]);
  });
});

describe('readEmbeddedMetadata', () => {
  test('reads taken-at and camera from a camera JPEG', async () => {
    const exif = await readEmbeddedMetadata(jpg('Canon_40D.jpg'));
    expect(exif.make).toBe('Canon');
    expect(exif.model).toBe('Canon EOS 40D');
    expect(exif.takenAt?.toISOString()).toBe('2008-05-30T15:56:01.000Z');
  });

  test('files with malformed metadata give what can be read, never an error', async () => {
    for (const name of ['image01088.jpg', 'image01137.jpg', 'image01551.jpg']) {
      const exif = await readEmbeddedMetadata(jpg(`invalid/${name}`));
      expect(exif).toHaveProperty('takenAt');
    }
  });

  test('a file with no metadata at all gives nulls', async () => {
    const exif = await readEmbeddedMetadata(join(FIXTURES, 'objects/tench_n01440764.png'));
    expect(exif).toMatchObject({
      takenAt: null,
      make: null,
      model: null,
      orientation: null,
      location: null,
    });
  });
});
