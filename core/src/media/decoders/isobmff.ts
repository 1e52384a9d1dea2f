import { CorruptImageError } from '../errors.ts';
import type { RandomAccessFile } from './random-access-file.ts';

/** One ISO base media file format box (ISO/IEC 14496-12 §4.2): HEIF, AVIF and JPEG XL use them. */
export interface Box {
  type: string;
  /** Offset of the box's header. */
  start: number;
  /** Offset of its payload, after the size/type (and 64-bit size) header. */
  body: number;
  /** Offset just past it. */
  end: number;
}

// A file has a handful of top-level boxes (ftyp, meta, mdat…); many more is not a photo.
const MAX_TOP_LEVEL_BOXES = 256;

function boxAt(header: Buffer, start: number, limit: number): Box | null {
  if (header.length < 8) return null;
  let size = header.readUInt32BE(0);
  const type = header.toString('latin1', 4, 8);
  let body = start + 8;
  if (size === 1) {
    if (header.length < 16) return null;
    size = Number(header.readBigUInt64BE(8));
    body = start + 16;
  } else if (size === 0) {
    size = limit - start; // "extends to the end of the file"
  }
  const end = start + size;
  if (!Number.isSafeInteger(end) || end < body || end > limit) return null;
  return { type, start, body, end };
}

/** The top-level boxes of a file, read header by header (the payloads stay on disk). */
export async function topLevelBoxes(file: RandomAccessFile): Promise<Box[]> {
  const boxes: Box[] = [];
  let offset = 0;
  while (offset < file.size && boxes.length < MAX_TOP_LEVEL_BOXES) {
    const box = boxAt(await file.read(offset, 16), offset, file.size);
    if (!box) {
      // A cut file ends in a box that claims more bytes than there are.
      throw new CorruptImageError(`a box at offset ${offset} runs past the end of the file`);
    }
    boxes.push(box);
    offset = box.end;
  }
  return boxes;
}

/** The child boxes inside `buffer[start, end)`, for boxes already read into memory. */
export function childBoxes(buffer: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let offset = start;
  while (offset + 8 <= end) {
    const box = boxAt(buffer.subarray(offset, offset + 16), offset, end);
    if (!box) throw new CorruptImageError(`a box at offset ${offset} is malformed`);
    boxes.push(box);
    offset = box.end;
  }
  return boxes;
}
