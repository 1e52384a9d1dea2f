/** SYNTHETIC DNG and Panasonic RW2 layouts; see synthetic-raw.ts. */
import { CFA, EXIF_IFD, losslessJpeg, type RawParts, rgbStrip, sensor } from './raw-parts.ts';
import { at, e, len, T, type TiffLayout, tiffHeader } from './tiff-writer.ts';

/**
 * DNG 1.4: IFD0 is a small RGB thumbnail with DNGVersion; SubIFDs hold the raw CFA
 * (lossless JPEG, compression 7) and a full-size YCbCr JPEG preview (compression 7).
 */
export function dngLayout(p: RawParts): TiffLayout {
  const o = [p.orientation ?? 1];
  return {
    littleEndian: true,
    headerLength: 8,
    header: tiffHeader(true),
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
          e(0x10f, T.ascii, 'Google'),
          e(0x110, T.ascii, 'Pixel 7'),
          e(0x111, T.long, at('rgb')),
          e(0x112, T.short, o),
          e(0x115, T.short, [3]),
          e(0x116, T.long, [6]),
          e(0x117, T.long, len('rgb')),
          e(0x11c, T.short, [1]),
          e(0x131, T.ascii, 'HDR+ 1.0'),
          e(0x14a, T.long, { offsetsOf: ['raw-ifd', 'preview-ifd'] }),
          e(0x8769, T.long, at('exif')),
          e(0xc612, T.byte, [1, 4, 0, 0]),
          e(0xc613, T.byte, [1, 1, 0, 0]),
          e(0xc614, T.ascii, 'Pixel 7'),
        ],
      },
      {
        name: 'raw-ifd',
        entries: [
          e(0xfe, T.long, [0]),
          e(0x100, T.long, [4080]),
          e(0x101, T.long, [3072]),
          e(0x102, T.short, [16]),
          e(0x103, T.short, [7]),
          e(0x106, T.short, [32803]),
          e(0x111, T.long, at('raw')),
          e(0x115, T.short, [1]),
          e(0x116, T.long, [3072]),
          e(0x117, T.long, len('raw')),
          ...CFA,
        ],
      },
      {
        name: 'preview-ifd',
        entries: [
          e(0xfe, T.long, [1]),
          e(0x102, T.short, [8, 8, 8]),
          e(0x103, T.short, [7]),
          e(0x106, T.short, [6]),
          e(0x111, T.long, at('preview')),
          e(0x115, T.short, [3]),
          e(0x117, T.long, len('preview')),
          e(0xc71a, T.long, [1]),
        ],
      },
      EXIF_IFD,
    ],
    blocks: [
      { name: 'rgb', bytes: rgbStrip() },
      { name: 'raw', bytes: losslessJpeg(4080, 3072) },
      { name: 'preview', bytes: p.preview },
    ],
  };
}

/**
 * RW2: "IIU\0" (magic 0x55) and Panasonic's 16-byte signature; IFD0 holds sensor tags,
 * the raw strip and, in tag 0x2E, the whole JpgFromRaw.
 */
export function rw2Layout(p: RawParts): TiffLayout {
  const o = [p.orientation ?? 1];
  return {
    littleEndian: true,
    headerLength: 24,
    header: (offsets, length) => {
      const head = tiffHeader(true, 0x55)(offsets, length);
      Buffer.from('88e774d8f8251d4d947a6e77822b5d6a', 'hex').copy(head, 8);
      return head;
    },
    ifds: [
      {
        name: 'ifd0',
        entries: [
          e(0x01, T.undefined, Buffer.from('0470')),
          e(0x02, T.short, [5200]),
          e(0x03, T.short, [3904]),
          e(0x04, T.short, [0]),
          e(0x05, T.short, [0]),
          e(0x06, T.short, [3888]),
          e(0x07, T.short, [5184]),
          e(0x09, T.short, [1]),
          e(0x0a, T.short, [12]),
          e(0x0b, T.short, [34316]),
          e(0x2e, T.undefined, p.preview),
          e(0x10f, T.ascii, 'Panasonic'),
          e(0x110, T.ascii, 'DC-GH5'),
          e(0x111, T.long, at('raw')),
          e(0x112, T.short, o),
          e(0x116, T.short, [3888]),
          e(0x117, T.long, len('raw')),
          e(0x118, T.long, at('raw')),
          e(0x8769, T.long, at('exif')),
        ],
      },
      EXIF_IFD,
    ],
    blocks: [{ name: 'raw', bytes: sensor() }],
  };
}
