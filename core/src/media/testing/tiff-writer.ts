/**
 * A small TIFF writer for tests: lays out directories, their out-of-line values and named data
 * blocks, resolving references between them, so the RAW tests can build containers the way
 * cameras do (TIFF 6.0 structures, byte order of choice, custom file headers).
 */

/** TIFF field types used here. */
export const T = { byte: 1, ascii: 2, short: 3, long: 4, rational: 5, undefined: 7 } as const;

type Ref = { offsetOf: string } | { offsetsOf: string[] } | { lengthOf: string };

export interface EntrySpec {
  tag: number;
  type: (typeof T)[keyof typeof T];
  /** Numbers (rationals as numerator, denominator pairs), text, bytes, or a reference. */
  value: number[] | string | Buffer | Ref;
}

export interface TiffLayout {
  littleEndian: boolean;
  /** Bytes before IFD0, given the final offsets (named IFDs and blocks); fixed length. */
  header: (offsets: ReadonlyMap<string, number>, length: number) => Buffer;
  headerLength: number;
  /** Directories in file order; the first is IFD0. */
  ifds: { name: string; entries: EntrySpec[]; next?: string }[];
  /** Data blocks after the directories (previews, raw data). */
  blocks: { name: string; bytes: Buffer }[];
}

const SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 };

function valueCount(entry: EntrySpec): number {
  const v = entry.value;
  if (typeof v === 'string') return Buffer.byteLength(v, 'latin1') + 1;
  if (Buffer.isBuffer(v)) return v.length;
  if (Array.isArray(v)) return entry.type === T.rational ? v.length / 2 : v.length;
  return 'offsetsOf' in v ? v.offsetsOf.length : 1;
}

/** Builds the file; blocks are placed after all directories, each at an even offset. */
export function buildTiff(layout: TiffLayout): Buffer {
  const offsets = new Map<string, number>();
  const lengths = new Map<string, number>();
  let at = layout.headerLength;
  const sized = layout.ifds.map((ifd) => {
    const entries = [...ifd.entries].sort((a, b) => a.tag - b.tag);
    const outOfLine = entries.reduce((sum, e) => {
      const bytes = valueCount(e) * (SIZES[e.type] ?? 1);
      return sum + (bytes > 4 ? bytes + (bytes & 1) : 0);
    }, 0);
    offsets.set(ifd.name, at);
    at += 2 + entries.length * 12 + 4 + outOfLine;
    return { ...ifd, entries };
  });
  for (const block of layout.blocks) {
    at += at & 1;
    offsets.set(block.name, at);
    lengths.set(block.name, block.bytes.length);
    at += block.bytes.length;
  }
  const out = Buffer.alloc(at);
  layout.header(offsets, layout.headerLength).copy(out, 0);
  const le = layout.littleEndian;
  const u16 = (v: number, p: number) => (le ? out.writeUInt16LE(v, p) : out.writeUInt16BE(v, p));
  const u32 = (v: number, p: number) => (le ? out.writeUInt32LE(v, p) : out.writeUInt32BE(v, p));
  const resolve = (v: EntrySpec['value']): number[] | string | Buffer => {
    if (typeof v === 'string' || Buffer.isBuffer(v) || Array.isArray(v)) return v;
    const find = (name: string, map: Map<string, number>) => {
      const n = map.get(name);
      if (n === undefined) throw new Error(`unknown block or IFD ${name}`);
      return n;
    };
    if ('offsetOf' in v) return [find(v.offsetOf, offsets)];
    if ('offsetsOf' in v) return v.offsetsOf.map((name) => find(name, offsets));
    return [find(v.lengthOf, lengths)];
  };
  for (const ifd of sized) {
    const base = offsets.get(ifd.name) ?? 0;
    let extra = base + 2 + ifd.entries.length * 12 + 4;
    u16(ifd.entries.length, base);
    ifd.entries.forEach((entry, i) => {
      const p = base + 2 + i * 12;
      const value = resolve(entry.value);
      const count = valueCount(entry);
      const bytes = count * (SIZES[entry.type] ?? 1);
      u16(entry.tag, p);
      u16(entry.type, p + 2);
      u32(count, p + 4);
      let dest = p + 8;
      if (bytes > 4) {
        u32(extra, p + 8);
        dest = extra;
        extra += bytes + (bytes & 1);
      }
      if (typeof value === 'string') out.write(value, dest, 'latin1');
      else if (Buffer.isBuffer(value)) value.copy(out, dest);
      else {
        const size = SIZES[entry.type] === 8 ? 4 : (SIZES[entry.type] ?? 1);
        value.forEach((n, j) => {
          if (size === 1) out[dest + j] = n;
          else if (size === 2) u16(n, dest + j * 2);
          else u32(n, dest + j * 4);
        });
      }
    });
    u32(ifd.next ? (offsets.get(ifd.next) ?? 0) : 0, base + 2 + ifd.entries.length * 12);
  }
  for (const block of layout.blocks) block.bytes.copy(out, offsets.get(block.name) ?? 0);
  return out;
}

/** The classic 8-byte TIFF header: byte order, 42, offset of IFD0. */
export function tiffHeader(littleEndian: boolean, magic = 42) {
  return (offsets: ReadonlyMap<string, number>, length: number): Buffer => {
    const head = Buffer.alloc(length);
    head.write(littleEndian ? 'II' : 'MM', 0, 'latin1');
    const first = [...offsets.values()][0] ?? 8;
    if (littleEndian) {
      head.writeUInt16LE(magic, 2);
      head.writeUInt32LE(first, 4);
    } else {
      head.writeUInt16BE(magic, 2);
      head.writeUInt32BE(first, 4);
    }
    return head;
  };
}

/** One directory entry. */
export const e = (tag: number, type: EntrySpec['type'], value: EntrySpec['value']): EntrySpec => ({
  tag,
  type,
  value,
});
/** The offset of a named IFD or block, as an entry's value. */
export const at = (name: string) => ({ offsetOf: name });
/** The byte length of a named block, as an entry's value. */
export const len = (name: string) => ({ lengthOf: name });
