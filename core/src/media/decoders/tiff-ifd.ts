import { CorruptImageError } from '../errors.ts';
import type { RandomAccessFile } from './random-access-file.ts';

/** One directory entry (TIFF 6.0 §2): where its value lies in the file. */
export interface TiffEntry {
  tag: number;
  type: number;
  count: number;
  /** File offset of the value: inside the entry when it fits in 4 bytes, else where it points. */
  at: number;
}

/** One image file directory, its entries by tag and the offset of the next one (0: none). */
export interface TiffIfd {
  offset: number;
  entries: Map<number, TiffEntry>;
  next: number;
}

// Bytes per value of each TIFF field type (1 BYTE … 13 IFD); unknown types count as 1.
const TYPE_SIZES: Record<number, number> = {
  3: 2,
  4: 4,
  5: 8,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
};
// Values read as numbers (strip offsets, SubIFD lists): a preview is one strip.
const MAX_VALUES = 1024;

/**
 * A bounded reader of TIFF structures (TIFF 6.0, and the TIFF-based RAWs: CR2, NEF, ARW, DNG,
 * and RW2 whose magic is 0x55 instead of 42). It reads each directory by positional reads and
 * never follows an offset outside the file.
 */
export class TiffReader {
  private constructor(
    private readonly file: RandomAccessFile,
    private readonly little: boolean,
    /** Offset of IFD0. */
    readonly first: number,
  ) {}

  static async open(file: RandomAccessFile): Promise<TiffReader> {
    const head = await file.read(0, 8);
    const order = head.toString('latin1', 0, 2);
    if (head.length < 8 || (order !== 'II' && order !== 'MM')) {
      throw new CorruptImageError('the TIFF header is missing');
    }
    const little = order === 'II';
    const first = little ? head.readUInt32LE(4) : head.readUInt32BE(4);
    return new TiffReader(file, little, first);
  }

  async readIfd(offset: number): Promise<TiffIfd> {
    const countBytes = await this.file.read(offset, 2);
    if (countBytes.length < 2) throw new CorruptImageError(`no TIFF directory at offset ${offset}`);
    // The count is 16-bit, so one directory is at most 786 KB: read in one go, even when a
    // hostile file fills it with 65,535 junk tags.
    const count = this.u16(countBytes, 0);
    const raw = await this.file.read(offset + 2, count * 12 + 4);
    if (raw.length < count * 12) throw new CorruptImageError('a TIFF directory is cut short');
    const entries = new Map<number, TiffEntry>();
    for (let i = 0; i < count; i++) {
      const p = i * 12;
      const type = this.u16(raw, p + 2);
      const n = this.u32(raw, p + 4);
      const bytes = n * (TYPE_SIZES[type] ?? 1);
      const at = bytes <= 4 ? offset + 2 + p + 8 : this.u32(raw, p + 8);
      entries.set(this.u16(raw, p), { tag: this.u16(raw, p), type, count: n, at });
    }
    const next = raw.length >= count * 12 + 4 ? this.u32(raw, count * 12) : 0;
    return { offset, entries, next };
  }

  /** The entry's values as numbers (BYTE, SHORT, LONG, IFD), at most MAX_VALUES of them. */
  async values(entry: TiffEntry | undefined): Promise<number[]> {
    if (!entry) return [];
    const size = TYPE_SIZES[entry.type] ?? 1;
    const n = Math.min(entry.count, MAX_VALUES);
    const buf = await this.file.read(entry.at, n * size);
    const out: number[] = [];
    for (let i = 0; i + size <= buf.length; i += size) {
      out.push(size === 1 ? (buf[i] ?? 0) : size === 2 ? this.u16(buf, i) : this.u32(buf, i));
    }
    return out;
  }

  async value(entry: TiffEntry | undefined): Promise<number | undefined> {
    return (await this.values(entry))[0];
  }

  private u16(buf: Buffer, at: number): number {
    return this.little ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  }

  private u32(buf: Buffer, at: number): number {
    return this.little ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  }
}
