/**
 * SYNTHETIC camera RAW containers for tests: there are no real RAW files among the fixtures,
 * so these are built to the published layouts (TIFF/EP for CR2, NEF, ARW, DNG; Panasonic's
 * `IIU` TIFF variant for RW2; Fujifilm's big-endian header for RAF). Each holds a real JPEG
 * preview where that camera maker puts it, a small thumbnail JPEG, and a few kilobytes of fake
 * sensor data with the directory entries that describe it. They are not camera files: no real
 * sensor data, no maker notes; they exercise detection and preview extraction only. exiftool
 * recognises each as its type and extracts the same preview (raw-preview.test.ts checks it).
 */
import { arwLayout, cr2Layout, nefLayout } from './canon-nikon-sony-layouts.ts';
import { dngLayout, rw2Layout } from './dng-panasonic-layouts.ts';
import { type RawParts, sensor } from './raw-parts.ts';
import { buildTiff } from './tiff-writer.ts';

export type { RawParts } from './raw-parts.ts';

export const RAW_FORMATS = ['cr2', 'nef', 'arw', 'dng', 'raf', 'rw2'] as const;
export type RawFormat = (typeof RAW_FORMATS)[number];

const LAYOUTS = { cr2: cr2Layout, nef: nefLayout, arw: arwLayout, dng: dngLayout, rw2: rw2Layout };

/** A RAF: the 100+-byte header, the preview JPEG (with its EXIF), a CFA header and data. */
function raf(p: RawParts): Buffer {
  const header = Buffer.alloc(160);
  header.write('FUJIFILMCCD-RAW 0201FF383501', 0, 'latin1');
  header.write('X-T3', 28, 'latin1');
  header.write('0100', 60, 'latin1');
  const jpegAt = header.length;
  const cfaHeaderAt = jpegAt + p.preview.length;
  // One RAF directory entry: 0x100 RawImageFullSize (height, width).
  const cfaHeader = Buffer.from([0, 0, 0, 1, 0x01, 0x00, 0, 4, 0x0f, 0x00, 0x17, 0x00]);
  const cfaAt = cfaHeaderAt + cfaHeader.length;
  const data = sensor();
  header.writeUInt32BE(jpegAt, 84);
  header.writeUInt32BE(p.preview.length, 88);
  header.writeUInt32BE(cfaHeaderAt, 92);
  header.writeUInt32BE(cfaHeader.length, 96);
  header.writeUInt32BE(cfaAt, 100);
  header.writeUInt32BE(data.length, 104);
  return Buffer.concat([header, p.preview, cfaHeader, data]);
}

/** Builds a synthetic container of `format` around the given JPEGs. */
export function syntheticRaw(format: RawFormat, parts: RawParts): Buffer {
  return format === 'raf' ? raf(parts) : buildTiff(LAYOUTS[format](parts));
}
