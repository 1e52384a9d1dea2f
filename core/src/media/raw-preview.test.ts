/**
 * Camera RAW through its embedded JPEG preview. The containers are SYNTHETIC (see
 * testing/synthetic-raw.ts): built to each maker's published layout around a real JPEG, not
 * files from cameras. exiftool, the reference reader of these formats, is used as an oracle:
 * it must name each container's type and extract the same preview AEX decodes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ExifTool } from 'exiftool-vendored';
import { fileTypeFromFile } from 'file-type';
import sharp from 'sharp';
import { readRawPreview } from './decoders/raw-preview.ts';
import { CorruptImageError, ImageTooLargeError, processImage } from './image-processor.ts';
import { detectMediaType } from './media-type.ts';
import { contentDistance, fixture, LIMIT, scratch } from './testing/images.ts';
import { RAW_FORMATS, type RawFormat, syntheticRaw } from './testing/synthetic-raw.ts';

const MIME: Record<RawFormat, string> = {
  cr2: 'image/x-canon-cr2',
  nef: 'image/x-nikon-nef',
  arw: 'image/x-sony-arw',
  dng: 'image/x-adobe-dng',
  raf: 'image/x-fujifilm-raf',
  rw2: 'image/x-panasonic-rw2',
};

const exiftool = new ExifTool({ maxProcs: 1 });
let picture: Buffer;
let preview: Buffer;
let thumbnail: Buffer;
let out: Awaited<ReturnType<typeof scratch>>;

beforeAll(async () => {
  out = await scratch('raw');
  picture = await sharp(fixture('exif-samples/jpg/Canon_40D.jpg'))
    .resize(800, 600, { fit: 'fill' })
    .png()
    .toBuffer();
  // The preview's own EXIF says 3 and Make FUJIFILM (RAF keeps its metadata there); the
  // TIFF-based RAWs say 6 in IFD0, which must win over the preview's 3.
  preview = await sharp(picture)
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 3 })
    .withExifMerge({ IFD0: { Make: 'FUJIFILM', Model: 'X-T3' } })
    .toBuffer();
  thumbnail = await sharp({
    create: { width: 160, height: 120, channels: 3, background: '#00ff00' },
  })
    .jpeg()
    .toBuffer();
});

afterAll(() => exiftool.end());

describe.each(RAW_FORMATS)('synthetic %s', (format) => {
  let path: string;
  beforeAll(async () => {
    // No extension: detection reads the bytes. exiftool gets a copy with one.
    path = await out.write(format, syntheticRaw(format, { preview, thumbnail, orientation: 6 }));
  });

  test('file-type and AEX detect it as that RAW type', async () => {
    expect((await fileTypeFromFile(path))?.mime).toBe(MIME[format]);
    expect(await detectMediaType(path)).toEqual({
      supported: true,
      mime: MIME[format],
      format,
      decoder: 'raw-preview',
    });
  });

  test('exiftool reads the same type and extracts the same preview', async () => {
    const named = await out.write(
      `oracle.${format}`,
      syntheticRaw(format, { preview, thumbnail, orientation: 6 }),
    );
    const tags = await exiftool.read(named);
    expect(tags.FileType).toBe(format.toUpperCase());
    const extracted = await Promise.all(
      (['JpgFromRaw', 'PreviewImage'] as const).map((tag) =>
        exiftool.extractBinaryTagToBuffer(tag, named).catch(() => null),
      ),
    );
    expect(extracted.some((bytes) => bytes?.equals(preview))).toBe(true);
    expect((await readRawPreview(named, format)).jpeg.equals(preview)).toBe(true);
  });

  test('the biggest embedded preview is decoded, with the RAW orientation', async () => {
    const type = await detectMediaType(path);
    if (!type.supported) throw new Error('not detected');
    const result = await processImage(path, type, LIMIT);
    // Not the green 160 × 120 thumbnail, not the lossless-JPEG sensor data: the 800 × 600 preview.
    const upright =
      format === 'raf'
        ? await sharp(picture).rotate(180).toBuffer() // RAF: the preview's own EXIF (3)
        : await sharp(picture).rotate(90).toBuffer(); // the others: IFD0 Orientation 6
    const expected = format === 'raf' ? [800, 600, 3] : [600, 800, 6];
    expect([result.width, result.height, result.orientation]).toEqual(expected);
    expect(await contentDistance(result.preview, upright)).toBeLessThan(6);
    expect(await contentDistance(result.preview, picture)).toBeGreaterThan(15);
  });
});

test('a NEF that file-type takes for a TIFF is still read as a NEF, through its preview', async () => {
  // file-type knows a NEF by IFD0 holding exactly 28 entries; with 27 it says image/tiff, and
  // libvips would show the 8 × 6 IFD0 thumbnail. The CFA SubIFD and the Make say NEF.
  const nef = syntheticRaw('nef', { preview, thumbnail, orientation: 1 });
  nef.writeUInt16BE(27, 8);
  const path = await out.write('nef-27', nef);
  expect((await fileTypeFromFile(path))?.mime).toBe('image/tiff');
  const type = await detectMediaType(path);
  expect(type).toMatchObject({ supported: true, mime: MIME.nef, decoder: 'raw-preview' });
  if (!type.supported) return;
  const result = await processImage(path, type, LIMIT);
  expect([result.width, result.height]).toEqual([800, 600]);
});

describe('RAW failures', () => {
  test('a preview whose frame claims 50,000 × 50,000 pixels is refused before decoding', async () => {
    const bomb = Buffer.from(preview);
    const sof = bomb.indexOf(Buffer.from([0xff, 0xc0]));
    bomb.writeUInt16BE(50_000, sof + 5);
    bomb.writeUInt16BE(50_000, sof + 7);
    const path = await out.write('bomb-nef', syntheticRaw('nef', { preview: bomb, thumbnail }));
    const type = await detectMediaType(path);
    if (!type.supported) throw new Error('not detected');
    const error = await processImage(path, type, LIMIT).catch((e) => e);
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error.pixels).toBe(2_500_000_000);
  });

  test('a TIFF RAW with no decodable preview is corrupt, not unsupported', async () => {
    // Only the lossless-JPEG (SOF3) sensor data and no preview: nothing libjpeg can show.
    const noPreview = syntheticRaw('cr2', {
      preview: Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
      thumbnail: Buffer.alloc(0),
    });
    const path = await out.write('empty-cr2', noPreview);
    const error = await processImage(
      path,
      { supported: true, mime: MIME.cr2, format: 'cr2', decoder: 'raw-preview' },
      LIMIT,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(CorruptImageError);
    expect(error.message).toContain('embeds no JPEG preview');
  });

  test('a RAW cut after its preview (in the sensor data) still shows its preview', async () => {
    const whole = syntheticRaw('nef', { preview, thumbnail, orientation: 1 });
    const end = whole.indexOf(preview) + preview.length;
    const path = await out.write('cut-after-preview', whole.subarray(0, end + 100));
    const result = await processImage(
      path,
      { supported: true, mime: MIME.nef, format: 'nef', decoder: 'raw-preview' },
      LIMIT,
    );
    expect([result.width, result.height]).toEqual([800, 600]);
  });
});
