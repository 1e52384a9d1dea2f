/** Builders of hostile inputs for the bad-input tests: archives, bombs, tag floods. */
import { crc32 } from 'node:zlib';
import { buildTiff, type EntrySpec, T, tiffHeader } from './tiff-writer.ts';

/** A ZIP archive (stored, no compression) holding one file: enough for JAR/ZIP polyglots. */
export function zipStored(name: string, content: Buffer | string): Buffer {
  const data = Buffer.from(content);
  const fileName = Buffer.from(name);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const centralAt = local.length + fileName.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralAt, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}

/**
 * A JPEG whose EXIF IFD0 declares 10,000 entries. An APP1 segment holds at most 65,533
 * bytes, so only the first 5,459 entries (12 bytes each) fit: the rest of the declared
 * directory runs past the segment, which is what a hostile file would do anyway.
 */
export function jpegWithExifFlood(jpeg: Buffer, declared = 10_000): Buffer {
  const fitting = Math.floor((65_533 - 2 - 6 - 8 - 2) / 12);
  const tiff = Buffer.alloc(8 + 2 + fitting * 12);
  tiff.write('II*\0', 0, 'latin1');
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(declared, 8);
  for (let i = 0; i < fitting; i++) {
    const p = 10 + i * 12;
    tiff.writeUInt16LE(0xc000 + i, p); // private tags, ascending
    tiff.writeUInt16LE(T.short, p + 2);
    tiff.writeUInt32LE(1, p + 4);
    tiff.writeUInt16LE(i & 0xffff, p + 8);
  }
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  // After SOI: the flooded APP1, then the rest of the original stream.
  return Buffer.concat([jpeg.subarray(0, 2), app1, payload, jpeg.subarray(2)]);
}

/** An uncompressed RGB TIFF whose IFD0 holds `tags` extra (private, ascending) entries. */
export function tiffWithTagFlood(
  rgb: Buffer,
  width: number,
  height: number,
  tags = 10_000,
): Buffer {
  const flood: EntrySpec[] = Array.from({ length: tags }, (_, i) => ({
    tag: 0xd000 + i,
    type: T.short,
    value: [i & 0xffff],
  }));
  return buildTiff({
    littleEndian: true,
    headerLength: 8,
    header: tiffHeader(true),
    ifds: [
      {
        name: 'ifd0',
        entries: [
          { tag: 0x100, type: T.long, value: [width] },
          { tag: 0x101, type: T.long, value: [height] },
          { tag: 0x102, type: T.short, value: [8, 8, 8] },
          { tag: 0x103, type: T.short, value: [1] },
          { tag: 0x106, type: T.short, value: [2] },
          { tag: 0x111, type: T.long, value: { offsetOf: 'pixels' } },
          { tag: 0x115, type: T.short, value: [3] },
          { tag: 0x116, type: T.long, value: [height] },
          { tag: 0x117, type: T.long, value: { lengthOf: 'pixels' } },
          ...flood,
        ],
      },
    ],
    blocks: [{ name: 'pixels', bytes: rgb }],
  });
}

/** A JPEG XL codestream header claiming `width × height`, then junk where pixels would be. */
export function jxlHeaderOnly(width: number, height: number): Buffer {
  const bits: number[] = [];
  const put = (value: number, count: number) => {
    for (let i = 0; i < count; i++) bits.push(Math.floor(value / 2 ** i) % 2);
  };
  const dimension = (n: number) => {
    put(3, 2); // U32 selector 3: Bits(30)
    put(n - 1, 30);
  };
  put(0, 1); // not "small"
  dimension(height);
  put(0, 3); // ratio 0: the width follows
  dimension(width);
  put(1, 1); // ImageMetadata all_default
  const bytes = Buffer.alloc(2 + Math.ceil(bits.length / 8) + 64, 0x5a);
  bytes[0] = 0xff;
  bytes[1] = 0x0a;
  bytes.fill(0, 2, 2 + Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => {
    bytes[2 + (i >> 3)] = (bytes[2 + (i >> 3)] ?? 0) | (bit << (i & 7));
  });
  return bytes;
}

/** A copy of a HEIF file with every `ispe` (image size) property set to `width × height`. */
export function heifWithSize(heif: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(heif);
  let at = out.indexOf('ispe');
  while (at >= 0) {
    // `ispe` FullBox: type, version + flags (4), width (4), height (4).
    out.writeUInt32BE(width, at + 8);
    out.writeUInt32BE(height, at + 12);
    at = out.indexOf('ispe', at + 4);
  }
  return out;
}
