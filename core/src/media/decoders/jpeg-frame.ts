import type { RandomAccessFile } from './random-access-file.ts';

/** The frame header (SOFn) of a JPEG stream: its coding process and size. */
export interface JpegFrame {
  marker: number;
  width: number;
  height: number;
}

// Segments before the frame header: APPn (EXIF, XMP, ICC in pieces, MPF), DQT, DHT, COM.
const MAX_SEGMENTS = 128;

/**
 * Finds the SOF segment of the JPEG stream at `offset` by walking marker segments (ITU T.81
 * §B.1), or null when the bytes there are not a JPEG stream.
 */
export async function readJpegFrame(
  file: RandomAccessFile,
  offset: number,
  end: number,
): Promise<JpegFrame | null> {
  const soi = await file.read(offset, 2);
  if (soi[0] !== 0xff || soi[1] !== 0xd8) return null;
  let at = offset + 2;
  for (let i = 0; i < MAX_SEGMENTS && at + 4 <= end; i++) {
    const head = await file.read(at, 9);
    if (head[0] !== 0xff) return null;
    const marker = head[1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = head.readUInt16BE(2);
    // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (head.length < 9) return null;
      return { marker, height: head.readUInt16BE(5), width: head.readUInt16BE(7) };
    }
    if (marker === 0xda || marker === 0xd9) return null; // scan data or end before any frame
    at += 2 + length;
  }
  return null;
}

/**
 * Frames libjpeg decodes: baseline, extended and progressive Huffman, and their arithmetic
 * variants. Lossless (SOF3), as in CR2 and DNG raw data, and hierarchical ones are not images
 * sharp can read.
 */
export function isDecodableFrame(frame: JpegFrame): boolean {
  return [0xc0, 0xc1, 0xc2, 0xc9, 0xca].includes(frame.marker);
}
