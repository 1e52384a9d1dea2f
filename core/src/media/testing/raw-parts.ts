/** What the SYNTHETIC RAW layouts share: their inputs and filler data (see synthetic-raw.ts). */
import { randomBytes } from 'node:crypto';
import { e, T } from './tiff-writer.ts';

export interface RawParts {
  /** The full-size JPEG preview a decoder should pick. */
  preview: Buffer;
  /** A smaller JPEG (the IFD1-style thumbnail) it must not pick. */
  thumbnail: Buffer;
  /** IFD0 Orientation (ignored by RAF, whose preview's EXIF carries it). */
  orientation?: number;
}

export const DATE = '2024:05:01 12:00:00';
export const RES = [300, 1];
/** CFARepeatPatternDim and CFAPattern of an RGGB Bayer sensor. */
export const CFA = [e(0x828d, T.short, [2, 2]), e(0x828e, T.byte, [0, 1, 1, 2])];
/** A one-entry EXIF IFD (DateTimeOriginal). */
export const EXIF_IFD = { name: 'exif', entries: [e(0x9003, T.ascii, DATE)] };

/** A fake lossless-JPEG (SOF3) stream, as CR2 and DNG code their sensor data. */
export function losslessJpeg(width: number, height: number): Buffer {
  const size = [height >> 8, height & 255, width >> 8, width & 255];
  const sof3 = Buffer.from([0xff, 0xc3, 0, 11, 14, ...size, 1, 1, 0x11, 0]);
  const soi = Buffer.from([0xff, 0xd8]);
  return Buffer.concat([soi, sof3, randomBytes(4096), Buffer.from([0xff, 0xd9])]);
}

/** An 8 × 6 uncompressed RGB strip: the tiny IFD0 image of NEF and DNG. */
export const rgbStrip = () => Buffer.alloc(8 * 6 * 3, 0x80);
/** Stand-in sensor data. */
export const sensor = () => randomBytes(8192);
