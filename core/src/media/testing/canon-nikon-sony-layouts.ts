/** SYNTHETIC TIFF/EP RAW layouts (Canon CR2, Nikon NEF, Sony ARW); see synthetic-raw.ts. */
import {
  CFA,
  DATE,
  EXIF_IFD,
  losslessJpeg,
  type RawParts,
  RES,
  rgbStrip,
  sensor,
} from './raw-parts.ts';
import { at, e, len, T, type TiffLayout, tiffHeader } from './tiff-writer.ts';

/**
 * CR2: "CR" 2.0 after the TIFF header and the raw IFD's offset; IFD0's one strip is the
 * full-size preview (old-style JPEG, compression 6); IFD3 is the lossless-JPEG raw data.
 */
export function cr2Layout(p: RawParts): TiffLayout {
  const o = [p.orientation ?? 1];
  return {
    littleEndian: true,
    headerLength: 16,
    header: (offsets, length) => {
      const head = tiffHeader(true)(offsets, length);
      head.write('CR', 8, 'latin1');
      head.writeUInt16LE(2, 10);
      head.writeUInt32LE(offsets.get('ifd3') ?? 0, 12);
      return head;
    },
    ifds: [
      {
        name: 'ifd0',
        next: 'ifd1',
        entries: [
          e(0x100, T.short, [5760]),
          e(0x101, T.short, [3840]),
          e(0x102, T.short, [8, 8, 8]),
          e(0x103, T.short, [6]),
          e(0x10f, T.ascii, 'Canon'),
          e(0x110, T.ascii, 'Canon EOS 5D Mark III'),
          e(0x111, T.long, at('preview')),
          e(0x112, T.short, o),
          e(0x117, T.long, len('preview')),
          e(0x11a, T.rational, RES),
          e(0x11b, T.rational, RES),
          e(0x128, T.short, [2]),
          e(0x132, T.ascii, DATE),
          e(0x8769, T.long, at('exif')),
        ],
      },
      {
        name: 'ifd1',
        next: 'ifd2',
        entries: [
          e(0x103, T.short, [6]),
          e(0x201, T.long, at('thumb')),
          e(0x202, T.long, len('thumb')),
        ],
      },
      {
        name: 'ifd2',
        next: 'ifd3',
        entries: [
          e(0x100, T.short, [8]),
          e(0x101, T.short, [6]),
          e(0x102, T.short, [8, 8, 8]),
          e(0x103, T.short, [1]),
          e(0x106, T.short, [2]),
          e(0x111, T.long, at('rgb')),
          e(0x115, T.short, [3]),
          e(0x116, T.short, [6]),
          e(0x117, T.long, len('rgb')),
        ],
      },
      {
        name: 'ifd3',
        entries: [
          e(0x103, T.short, [6]),
          e(0x111, T.long, at('raw')),
          e(0x117, T.long, len('raw')),
          e(0xc640, T.short, [1, 2880, 2880]),
        ],
      },
      EXIF_IFD,
    ],
    blocks: [
      { name: 'preview', bytes: p.preview },
      { name: 'thumb', bytes: p.thumbnail },
      { name: 'rgb', bytes: rgbStrip() },
      { name: 'raw', bytes: losslessJpeg(5760, 3840) },
    ],
  };
}

/**
 * NEF: big-endian; IFD0 (28 entries, NewSubfileType first, as Nikon writes it) is a small
 * RGB thumbnail; SubIFD0 holds the full-size JpgFromRaw, SubIFD1 the CFA data.
 */
export function nefLayout(p: RawParts): TiffLayout {
  const o = [p.orientation ?? 1];
  return {
    littleEndian: false,
    headerLength: 8,
    header: tiffHeader(false),
    ifds: [
      {
        name: 'ifd0',
        entries: [
          e(0xfe, T.long, [1]),
          e(0x100, T.long, [8]),
          e(0x101, T.long, [6]),
          e(0x102, T.short, [8, 8, 8]),
          e(0x103, T.short, [1]),
          e(0x106, T.short, [2]),
          e(0x10e, T.ascii, ' '),
          e(0x10f, T.ascii, 'NIKON CORPORATION'),
          e(0x110, T.ascii, 'NIKON D850'),
          e(0x111, T.long, at('rgb')),
          e(0x112, T.short, o),
          e(0x115, T.short, [3]),
          e(0x116, T.short, [6]),
          e(0x117, T.long, len('rgb')),
          e(0x11a, T.rational, RES),
          e(0x11b, T.rational, RES),
          e(0x11c, T.short, [1]),
          e(0x128, T.short, [2]),
          e(0x131, T.ascii, 'Ver.1.10'),
          e(0x132, T.ascii, DATE),
          e(0x13b, T.ascii, ' '),
          e(0x14a, T.long, { offsetsOf: ['sub0', 'sub1'] }),
          e(0x213, T.short, [1]),
          e(0x214, T.rational, [0, 1, 255, 1, 0, 1, 255, 1, 0, 1, 255, 1]),
          e(0x8298, T.ascii, ' '),
          e(0x8769, T.long, at('exif')),
          e(0x8825, T.long, at('gps')),
          e(0x9216, T.byte, [1, 0, 0, 0]),
        ],
      },
      {
        name: 'sub0',
        entries: [
          e(0xfe, T.long, [1]),
          e(0x103, T.short, [6]),
          e(0x11a, T.rational, RES),
          e(0x11b, T.rational, RES),
          e(0x128, T.short, [2]),
          e(0x201, T.long, at('preview')),
          e(0x202, T.long, len('preview')),
          e(0x213, T.short, [2]),
        ],
      },
      {
        name: 'sub1',
        entries: [
          e(0xfe, T.long, [0]),
          e(0x100, T.long, [8288]),
          e(0x101, T.long, [5520]),
          e(0x102, T.short, [14]),
          e(0x103, T.short, [34713]),
          e(0x106, T.short, [32803]),
          e(0x111, T.long, at('raw')),
          e(0x115, T.short, [1]),
          e(0x116, T.long, [5520]),
          e(0x117, T.long, len('raw')),
          e(0x11c, T.short, [1]),
          ...CFA,
        ],
      },
      EXIF_IFD,
      { name: 'gps', entries: [e(0x0, T.byte, [2, 3, 0, 0])] },
    ],
    blocks: [
      { name: 'rgb', bytes: rgbStrip() },
      { name: 'preview', bytes: p.preview },
      { name: 'raw', bytes: sensor() },
    ],
  };
}

/**
 * ARW: IFD0 carries the PreviewImage (0x201/0x202) and Sony's PrintIM; IFD1 the
 * thumbnail; a SubIFD the CFA data.
 */
export function arwLayout(p: RawParts): TiffLayout {
  const o = [p.orientation ?? 1];
  return {
    littleEndian: true,
    headerLength: 8,
    header: tiffHeader(true),
    ifds: [
      {
        name: 'ifd0',
        next: 'ifd1',
        entries: [
          e(0xfe, T.long, [1]),
          e(0x103, T.short, [6]),
          e(0x10e, T.ascii, ' '),
          e(0x10f, T.ascii, 'SONY'),
          e(0x110, T.ascii, 'ILCE-7M3'),
          e(0x112, T.short, o),
          e(0x11a, T.rational, RES),
          e(0x11b, T.rational, RES),
          e(0x128, T.short, [2]),
          e(0x131, T.ascii, 'ILCE-7M3 v3.01'),
          e(0x132, T.ascii, DATE),
          e(0x14a, T.long, at('raw-ifd')),
          e(0x201, T.long, at('preview')),
          e(0x202, T.long, len('preview')),
          e(0x213, T.short, [2]),
          e(0x8769, T.long, at('exif')),
          e(0xc4a5, T.undefined, Buffer.from('PrintIM\x000300\x00\x00\x00\x00\x00', 'latin1')),
        ],
      },
      {
        name: 'ifd1',
        entries: [
          e(0x103, T.short, [6]),
          e(0x201, T.long, at('thumb')),
          e(0x202, T.long, len('thumb')),
        ],
      },
      {
        name: 'raw-ifd',
        entries: [
          e(0xfe, T.long, [0]),
          e(0x100, T.long, [6048]),
          e(0x101, T.long, [4024]),
          e(0x102, T.short, [12]),
          e(0x103, T.short, [32767]),
          e(0x106, T.short, [32803]),
          e(0x111, T.long, at('raw')),
          e(0x115, T.short, [1]),
          e(0x116, T.long, [4024]),
          e(0x117, T.long, len('raw')),
          ...CFA,
        ],
      },
      EXIF_IFD,
    ],
    blocks: [
      { name: 'preview', bytes: p.preview },
      { name: 'thumb', bytes: p.thumbnail },
      { name: 'raw', bytes: sensor() },
    ],
  };
}
