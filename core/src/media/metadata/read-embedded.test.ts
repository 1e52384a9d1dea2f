import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { readEmbeddedMetadata } from './read-embedded.ts';
import {
  box,
  buildTiff,
  exifSegment,
  iptcSegment,
  pngChunk,
  tag,
  withChunks,
  withSegments,
  xmpPacket,
  xmpSegment,
} from './synthetic-files.ts';

const dir = await mkdtemp(join(tmpdir(), 'aex-metadata-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;
async function file(bytes: Uint8Array, name = `f${n++}`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

const pixels = () => sharp({ create: { width: 16, height: 12, channels: 3, background: '#3a6' } });
const JPEG = await pixels().jpeg().toBuffer();
const PNG = await pixels().png().toBuffer();

// A Fujifilm-like EXIF block: every typed field, in TIFF's own types.
const TIFF = buildTiff(
  [
    tag.ascii(0x010f, 'FUJIFILM'),
    tag.ascii(0x0110, 'X-T3'),
    tag.short(0x0112, 6),
    tag.ascii(0x010e, 'OLYMPUS DIGITAL CAMERA'),
    tag.ascii(0x0132, '2022:07:10 09:00:00'),
  ],
  {
    exif: [
      tag.rational(0x829a, [1, 250]),
      tag.rational(0x829d, [28, 10]),
      tag.short(0x8827, 400),
      tag.ascii(0x9003, '2022:07:09 14:21:33'),
      tag.ascii(0x9011, '+02:00'),
      tag.rational(0x920a, [230, 10]),
      tag.short(0xa405, 35),
      tag.ascii(0xa433, 'FUJIFILM'),
      tag.ascii(0xa434, 'XF23mmF1.4 R'),
    ],
    gps: [
      tag.ascii(0x0001, 'N'),
      tag.rational(0x0002, [48, 1], [51, 1], [1234, 100]),
      tag.ascii(0x0003, 'W'),
      tag.rational(0x0004, [2, 1], [17, 1], [3906, 100]),
      tag.bytes(0x0005, Uint8Array.of(1)),
      tag.rational(0x0006, [3500, 100]),
    ],
  },
);
const XMP = xmpPacket(
  'xmp:Rating="6" xmp:MetadataDate="2023-01-14T18:32:05+01:00"',
  `<dc:subject><rdf:Bag><rdf:li>Paris</rdf:li><rdf:li>paris</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|France|Seine</rdf:li></rdf:Bag></lr:hierarchicalSubject>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Evening at the Seine</rdf:li></rdf:Alt></dc:description>`,
);
const EXPECTED = {
  takenAt: new Date('2022-07-09T12:21:33Z'),
  takenAtOffset: 120,
  takenAtSource: 'exif',
  make: 'FUJIFILM',
  model: 'X-T3',
  lens: 'XF23mmF1.4 R',
  exposureTime: 0.004,
  fNumber: 2.8,
  iso: 400,
  focalLength: 23,
  focalLength35mm: 35,
  orientation: 6,
  rating: 5,
  keywords: ['Paris', 'Seine'],
  description: 'Evening at the Seine',
  modifiedAt: new Date('2023-01-14T17:32:05Z'),
};
const expectAll = async (path: string) => {
  const m = await readEmbeddedMetadata(path);
  expect(m).toMatchObject(EXPECTED);
  expect(m.location?.latitude).toBeCloseTo(48.85343, 5);
  expect(m.location?.longitude).toBeCloseTo(-2.29418, 5);
  expect(m.location?.altitude).toBeCloseTo(-35, 5);
  expect(m.raw).toHaveProperty('ifd0.Make', 'FUJIFILM');
  expect(m.raw).toHaveProperty('xmp.xmp:Rating', '6');
};

describe('readEmbeddedMetadata reads the same EXIF and XMP from every container', () => {
  test('JPEG: APP1 Exif, APP1 XMP', async () => {
    await expectAll(await file(withSegments(JPEG, [exifSegment(TIFF), xmpSegment(XMP)])));
  });

  test('TIFF: IFD0 with XMP in tag 700', async () => {
    const withXmp = buildTiff([tag.bytes(0x02bc, Buffer.from(XMP))]);
    // One TIFF holding both: read IFD0 entries of the first, plus the XMP tag.
    const tiff = buildTiff(
      [
        tag.ascii(0x010f, 'FUJIFILM'),
        tag.ascii(0x0110, 'X-T3'),
        tag.short(0x0112, 6),
        tag.ascii(0x0132, '2022:07:10 09:00:00'),
        tag.bytes(0x02bc, Buffer.from(XMP)),
      ],
      { exif: [], gps: [] },
    );
    const m = await readEmbeddedMetadata(await file(tiff));
    expect(m).toMatchObject({
      make: 'FUJIFILM',
      orientation: 6,
      rating: 5,
      keywords: ['Paris', 'Seine'],
    });
    expect((await readEmbeddedMetadata(await file(withXmp))).description).toBe(
      'Evening at the Seine',
    );
  });

  test('PNG: eXIf and an uncompressed iTXt, or a compressed one', async () => {
    const itxt = (compressed: boolean) =>
      pngChunk(
        'iTXt',
        Buffer.concat([
          Buffer.from(`XML:com.adobe.xmp\0${compressed ? '\x01' : '\x00'}\0\0\0`, 'latin1'),
          compressed ? deflateSync(XMP) : Buffer.from(XMP),
        ]),
      );
    await expectAll(await file(withChunks(PNG, [pngChunk('eXIf', TIFF), itxt(false)])));
    await expectAll(await file(withChunks(PNG, [pngChunk('eXIf', TIFF), itxt(true)])));
  });

  test('WebP: EXIF and XMP chunks', async () => {
    const webp = await pixels().webp().toBuffer();
    const chunk = (type: string, data: Buffer) => {
      const head = Buffer.alloc(8);
      head.write(type, 0, 'latin1');
      head.writeUInt32LE(data.length, 4);
      return Buffer.concat([head, data, Buffer.alloc(data.length % 2)]);
    };
    const body = Buffer.concat([
      webp.subarray(12),
      chunk('EXIF', TIFF),
      chunk('XMP ', Buffer.from(XMP)),
    ]);
    const riff = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBP'), body]);
    riff.writeUInt32LE(riff.length - 8, 4);
    await expectAll(await file(riff));
  });

  test('JPEG XL container: Exif and xml boxes, plain or Brotli-compressed (brob)', async () => {
    const signature = box('JXL ', Buffer.from([0x0d, 0x0a, 0x87, 0x0a]));
    const ftyp = box('ftyp', Buffer.from('jxl \0\0\0\0jxl ', 'latin1'));
    const exif = Buffer.concat([Buffer.alloc(4), TIFF]);
    const codestream = box('jxlc', Buffer.from([0xff, 0x0a, 0, 0]));
    const plain = [box('Exif', exif), box('xml ', Buffer.from(XMP))];
    const brob = [
      box('brob', Buffer.concat([Buffer.from('Exif'), brotliCompressSync(exif)])),
      box('brob', Buffer.concat([Buffer.from('xml '), brotliCompressSync(XMP)])),
    ];
    await expectAll(await file(Buffer.concat([signature, ftyp, ...plain, codestream])));
    await expectAll(await file(Buffer.concat([signature, ftyp, ...brob, codestream])));
  });

  test('Fujifilm RAF: the JPEG it embeds', async () => {
    const jpeg = withSegments(JPEG, [exifSegment(TIFF), xmpSegment(XMP)]);
    const header = Buffer.alloc(100);
    header.write('FUJIFILMCCD-RAW 0201FF383501', 0, 'latin1');
    header.writeUInt32BE(100, 84);
    header.writeUInt32BE(jpeg.length, 88);
    await expectAll(await file(Buffer.concat([header, jpeg])));
  });

  test("HEIC: the EXIF item and the XMP 'mime' item (an iPhone photo among the fixtures)", async () => {
    const heic = join(
      import.meta.dir,
      '../../../../../shared/fixtures/images/exif-samples/heic/IMG_5195.HEIC',
    );
    const m = await readEmbeddedMetadata(heic);
    expect(m.make).toBe('Apple');
    expect(m.raw).toHaveProperty(['xmp', 'xmp:CreateDate'], '2021-04-11T15:47:53');
  });

  test('TIFF-based RAW headers: Panasonic RW2 (IIU), Olympus ORF (IIRO), big-endian MM', async () => {
    for (const magic of [
      [0x55, 0x00],
      [0x52, 0x4f],
    ]) {
      const raw = Buffer.from(TIFF);
      raw[2] = magic[0] as number;
      raw[3] = magic[1] as number;
      expect(await readEmbeddedMetadata(await file(raw))).toMatchObject({
        make: 'FUJIFILM',
        iso: 400,
      });
    }
    // MM, 42, IFD0 at 8: one entry, Make (ASCII, 6 bytes at offset 26).
    const be = Buffer.from(
      '4d4d002a00000008000101 0f000200000006 0000001a00000000 4e696b6f6e00'.replace(/ /g, ''),
      'hex',
    );
    expect((await readEmbeddedMetadata(await file(be))).make).toBe('Nikon');
  });

  test.each(['jpeg', 'png', 'webp', 'avif'] as const)(
    '%s as sharp (libvips) writes it',
    async (format) => {
      const bytes = await pixels()
        .withExif({
          IFD0: { Make: 'TestMake', Model: 'TestModel' },
          IFD2: {
            DateTimeOriginal: '2021:01:02 03:04:05',
            OffsetTimeOriginal: '+05:30',
            ISOSpeedRatings: '200',
          },
          IFD3: {
            GPSLatitudeRef: 'S',
            GPSLatitude: '33/1 51/1 3598/100',
            GPSLongitudeRef: 'E',
            GPSLongitude: '151/1 12/1 4000/100',
          },
        })
        .withXmp(XMP)
        .toFormat(format)
        .toBuffer();
      const m = await readEmbeddedMetadata(await file(bytes));
      expect(m).toMatchObject({
        takenAt: new Date('2021-01-01T21:34:05Z'),
        takenAtOffset: 330,
        make: 'TestMake',
        iso: 200,
        rating: 5,
        keywords: ['Paris', 'Seine'],
      });
      expect(m.location?.latitude).toBeCloseTo(-33.86, 2);
    },
  );
});

describe('IPTC, lenses, ISO and ratings', () => {
  const iptc = (datasets: [number, number, Buffer][]) =>
    file(withSegments(JPEG, [iptcSegment(datasets)]));

  test('IPTC keywords and caption, in UTF-8 when declared and Latin-1 when not', async () => {
    const utf8 = await readEmbeddedMetadata(
      await iptc([
        [1, 90, Buffer.from([0x1b, 0x25, 0x47])],
        [2, 25, Buffer.from('Kraków')],
        [2, 25, Buffer.from(' Wawel ')],
        [2, 120, Buffer.from('Zamek Królewski')],
      ]),
    );
    expect(utf8).toMatchObject({ keywords: ['Kraków', 'Wawel'], description: 'Zamek Królewski' });
    const latin1 = await readEmbeddedMetadata(
      await iptc([
        [2, 25, Buffer.from('Zürich', 'latin1')],
        [2, 55, Buffer.from('20190512')],
        [2, 60, Buffer.from('134405+0200')],
      ]),
    );
    expect(latin1).toMatchObject({
      keywords: ['Zürich'],
      takenAt: new Date('2019-05-12T11:44:05Z'),
      takenAtOffset: 120,
      takenAtSource: 'xmp',
    });
  });

  test('a third-party lens is named with its maker; ISO above 65535 comes from ISOSpeed', async () => {
    const tiff = buildTiff([tag.ascii(0x010f, 'Canon'), tag.short(0x4746, 7)], {
      exif: [
        tag.short(0x8827, 65535),
        { tag: 0x8833, type: 4, count: 1, data: Buffer.from([0x00, 0x90, 0x01, 0x00]) },
        tag.ascii(0xa433, 'SIGMA'),
        tag.ascii(0xa434, '24-70mm F2.8 DG OS HSM | Art 017'),
      ],
    });
    const m = await readEmbeddedMetadata(await file(withSegments(JPEG, [exifSegment(tiff)])));
    expect(m).toMatchObject({
      lens: 'SIGMA 24-70mm F2.8 DG OS HSM | Art 017',
      iso: 102400,
      rating: 5,
    });
  });

  test('Windows XPKeywords (UCS-2) join the keywords', async () => {
    const tiff = buildTiff([tag.bytes(0x9c9e, Buffer.from('sun;beach\0', 'utf16le'))]);
    const m = await readEmbeddedMetadata(await file(withSegments(JPEG, [exifSegment(tiff)])));
    expect(m.keywords).toEqual(['sun', 'beach']);
  });
});

describe('files without metadata give nulls, never an error', () => {
  test.each([
    ['a GIF', async () => pixels().gif().toBuffer()],
    ['a bare JPEG XL codestream', async () => Buffer.from([0xff, 0x0a, 0xfa, 0x1f, 0x42])],
    ['an empty file', async () => Buffer.alloc(0)],
    ['a text file', async () => Buffer.from('hello, world')],
    ['an SVG', async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')],
  ])('%s', async (_, make) => {
    const m = await readEmbeddedMetadata(await file(await make()));
    expect(m).toMatchObject({ takenAt: null, make: null, location: null, keywords: [], raw: {} });
  });

  test('a path that does not exist', async () => {
    expect((await readEmbeddedMetadata(join(dir, 'missing.jpg'))).takenAt).toBeNull();
  });

  test('truncated files of every format give what was read before the cut', async () => {
    const full = withSegments(JPEG, [exifSegment(TIFF), xmpSegment(XMP)]);
    for (const cut of [3, 20, 200, 400, full.length - 10]) {
      const m = await readEmbeddedMetadata(await file(full.subarray(0, cut)));
      expect(m.keywords).toBeArray();
    }
    expect(
      (await readEmbeddedMetadata(await file(full.subarray(0, 2 + 4 + TIFF.length + 10)))).make,
    ).toBe('FUJIFILM');
    const png = withChunks(PNG, [pngChunk('eXIf', TIFF)]);
    expect((await readEmbeddedMetadata(await file(png.subarray(0, 60)))).make).toBeNull();
    expect((await readEmbeddedMetadata(await file(TIFF.subarray(0, 30)))).takenAt).toBeNull();
  });
});
