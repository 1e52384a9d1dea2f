import { beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { CorruptImageError, ImageTooLargeError, processImage } from './image-processor.ts';
import { detectMediaType } from './media-type.ts';
import { animated, encodeJxl, jxlContainer } from './testing/encoders.ts';
import {
  heifWithSize,
  jpegWithExifFlood,
  jxlHeaderOnly,
  tiffWithTagFlood,
  zipStored,
} from './testing/hostile-files.ts';
import { fixture, JPEG, LIMIT, scratch } from './testing/images.ts';
import { RAW_FORMATS, syntheticRaw } from './testing/synthetic-raw.ts';

let out: Awaited<ReturnType<typeof scratch>>;
let picture: Buffer;
let jpeg: Buffer;
const inputs: Record<string, Buffer> = {};

beforeAll(async () => {
  out = await scratch('bad');
  picture = await sharp(fixture('exif-samples/jpg/Canon_40D.jpg'))
    .resize(400, 300, { fit: 'fill' })
    .png()
    .toBuffer();
  jpeg = await sharp(picture).jpeg().toBuffer();
  const thumbnail = await sharp(picture).resize(160, 120).jpeg().toBuffer();
  Object.assign(inputs, {
    jpeg,
    png: await sharp(picture).png().toBuffer(),
    webp: await sharp(picture).webp().toBuffer(),
    avif: await sharp(picture).avif({ effort: 2 }).toBuffer(),
    gif: await animated(picture),
    tiff: await sharp(picture).tiff().toBuffer(),
    heic: await readFile(fixture('exif-samples/heic/samplefilehub.heif')),
    jxl: await encodeJxl(picture),
  });
  for (const format of RAW_FORMATS) {
    inputs[format] = syntheticRaw(format, { preview: jpeg, thumbnail });
  }
});

/** Detects and processes a file as ingestion does; returns the outcome instead of throwing. */
async function ingestOutcome(path: string) {
  const type = await detectMediaType(path);
  if (!type.supported) return { type, error: null, result: null };
  const result = await processImage(path, type, LIMIT).catch((error: Error) => error);
  return result instanceof Error
    ? { type, error: result, result: null }
    : { type, error: null, result };
}

describe('a file cut at half its length', () => {
  // Decided per format, from what each decoder does with the first half: every one of them
  // needs bytes from the second half (JPEG/PNG/WebP/GIF/AVIF image data, the TIFF directory
  // libvips writes last, HEIF's mdat, the JPEG XL frame, the RAWs' previews), so each is a
  // CorruptImageError (400), never a hang, a crash or a half-grey thumbnail.
  test.each(['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'heic', 'jxl', ...RAW_FORMATS])(
    '%s is corrupt',
    async (format) => {
      const whole = inputs[format] as Buffer;
      const path = await out.write(`cut-${format}`, whole.subarray(0, whole.length >> 1));
      const started = performance.now();
      const { type, error } = await ingestOutcome(path);
      // Still recognised as its type (a cut TIFF by its header), so the answer is "corrupt",
      // not "unsupported".
      expect(type.supported).toBe(true);
      expect(error).toBeInstanceOf(CorruptImageError);
      expect(error?.message).not.toContain(out.dir); // no server path in what clients see
      expect(performance.now() - started).toBeLessThan(5000);
    },
  );
});

describe('decompression bombs are refused from their headers', () => {
  test('HEIC whose ispe says 50,000 × 50,000', async () => {
    const path = await out.write('bomb-heic', heifWithSize(inputs.heic as Buffer, 50_000, 50_000));
    const { type, error } = await ingestOutcome(path);
    expect(type).toMatchObject({ supported: true, decoder: 'heif' });
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect((error as ImageTooLargeError).pixels).toBe(2_500_000_000);
  });

  test.each([
    ['bare codestream', (b: Buffer) => b],
    ['container', jxlContainer],
  ])('JPEG XL (%s) whose header says 50,000 × 50,000', async (_, wrap) => {
    const path = await out.write('bomb-jxl', wrap(jxlHeaderOnly(50_000, 50_000)));
    const { type, error } = await ingestOutcome(path);
    expect(type).toMatchObject({ supported: true, decoder: 'jxl' });
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect((error as ImageTooLargeError).pixels).toBe(2_500_000_000);
  });

  test('JPEG XL beyond what its WebAssembly heap holds is refused by that limit', async () => {
    // 6,000 × 6,000 is under AEX_MAX_PIXELS here but over libjxl's ~32 MP in 2 GiB.
    const path = await out.write('big-jxl', jxlHeaderOnly(6000, 6000));
    const { error } = await ingestOutcome(path);
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect((error as ImageTooLargeError).limit).toBe(32_000_000);
  });
});

describe('empty and non-image input', () => {
  test('a zero-byte file is unsupported, and corrupt if forced through a decoder', async () => {
    const path = await out.write('empty', '');
    expect(await detectMediaType(path)).toEqual({ supported: false, detected: null });
    expect(await processImage(path, JPEG, LIMIT).catch((e) => e)).toBeInstanceOf(CorruptImageError);
  });

  test.each([
    ['plain', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'],
    ['with an XML prolog', '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'],
    ['with a comment and doctype', '<!-- x --><!DOCTYPE svg><svg onload="alert(1)"></svg>'],
  ])('an SVG (%s) is unsupported and named', async (_, text) => {
    const path = await out.write('image.svg', text);
    expect(await detectMediaType(path)).toEqual({ supported: false, detected: 'image/svg+xml' });
    // Even forced through the JPEG path, libvips' SVG loader is never used.
    const error = await processImage(path, JPEG, LIMIT).catch((e) => e);
    expect(error).toBeInstanceOf(CorruptImageError);
  });
});

describe('polyglots: the bytes are the type they start with', () => {
  const payload = '<html><script>alert(document.cookie)</script></html>';

  // Starts as an image: decoded as that image. Whatever trails it is never served as-is:
  // derived images are re-encoded WebP, and the original is served with the detected type.
  test.each([
    ['JPEG + ZIP', 'image/jpeg', () => Buffer.concat([jpeg, zipStored('x.html', payload)])],
    ['JPEG + HTML', 'image/jpeg', () => Buffer.concat([jpeg, Buffer.from(payload)])],
    [
      'GIFAR (GIF + JAR)',
      'image/gif',
      async () =>
        Buffer.concat([
          await sharp(picture).gif().toBuffer(),
          zipStored('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\n'),
        ]),
    ],
  ])('%s decodes as %s', async (_, mime, build) => {
    const path = await out.write('polyglot', await build());
    const { type, error, result } = await ingestOutcome(path);
    expect(error).toBeNull();
    expect(type).toMatchObject({ supported: true, mime });
    expect([result?.width, result?.height]).toEqual([400, 300]);
    for (const derived of [result?.preview, result?.thumb]) {
      expect((await sharp(derived).metadata()).format).toBe('webp');
      expect(derived?.includes('<script>')).toBe(false);
    }
  });

  // Starts as something else: refused with that type, even with a whole JPEG inside.
  test.each([
    [
      'HTML with a JPEG inside',
      'text/html',
      () => Buffer.concat([Buffer.from(`<!DOCTYPE html>${payload}`), jpeg]),
    ],
    [
      'a PDF with a JPEG inside',
      'application/pdf',
      () => Buffer.concat([Buffer.from('%PDF-1.7\n'), jpeg]),
    ],
    ['a ZIP holding a JPEG', 'application/zip', () => zipStored('photo.jpg', jpeg)],
    [
      'an SVG followed by a JPEG',
      'image/svg+xml',
      () => Buffer.concat([Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), jpeg]),
    ],
  ])('%s is unsupported (%s)', async (_, detected, build) => {
    const path = await out.write('polyglot', build());
    expect(await detectMediaType(path)).toEqual({ supported: false, detected });
  });

  test('a JPEG whose comment segment is an SVG decodes as the JPEG', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    );
    const com = Buffer.alloc(4);
    com.writeUInt16BE(0xfffe, 0);
    com.writeUInt16BE(svg.length + 2, 2);
    const path = await out.write(
      'svg-in-jpeg',
      Buffer.concat([jpeg.subarray(0, 2), com, svg, jpeg.subarray(2)]),
    );
    const { type, result } = await ingestOutcome(path);
    expect(type).toMatchObject({ mime: 'image/jpeg' });
    expect([result?.width, result?.height]).toEqual([400, 300]);
  });
});

describe('floods of metadata tags finish in bounded time', () => {
  test('a JPEG whose EXIF IFD0 declares 10,000 tags (5,459 fit in APP1)', async () => {
    const path = await out.write('exif-flood', jpegWithExifFlood(jpeg));
    const started = performance.now();
    const { type, error, result } = await ingestOutcome(path);
    expect(error).toBeNull();
    expect(type).toMatchObject({ mime: 'image/jpeg' });
    expect([result?.width, result?.height]).toEqual([400, 300]);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  // libtiff refuses any directory of more than 4,096 entries ("sanity check on directory
  // count"), so 10,000 tags is a clean CorruptImageError; just under that limit it decodes
  // (libtiff takes 1-2 s per open to go through 4,000 unknown tags, quadratic in their count,
  // and libvips opens the file twice: the bound is a hang guard, not a speed goal).
  test.each([
    [10_000, 'corrupt'],
    [4_000, 'decodes'],
  ])('a TIFF whose IFD0 holds %d extra tags %s', async (tags, outcome) => {
    const { data, info } = await sharp(picture)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const path = await out.write(
      'tiff-flood',
      tiffWithTagFlood(data, info.width, info.height, tags),
    );
    const started = performance.now();
    const { type, error, result } = await ingestOutcome(path);
    expect(type).toMatchObject({ mime: 'image/tiff' });
    if (outcome === 'corrupt') expect(error).toBeInstanceOf(CorruptImageError);
    else expect([result?.width, result?.height]).toEqual([400, 300]);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
