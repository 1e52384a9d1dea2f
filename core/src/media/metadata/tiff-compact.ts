import type { ByteSource } from './byte-source.ts';
import { MAX_XMP_BYTES } from './limits.ts';

/**
 * TIFF-structured files (TIFF, and the RAWs built on it: CR2, NEF, ARW, DNG, ORF, RW2, PEF)
 * keep their directories anywhere in the file, with values anywhere else. exifr reads such a
 * file in 64 KB chunks and fails on a value outside the chunks it read (a TIFF whose IFD0
 * is at the start and whose text is after the strips), and one entry with an absurd count
 * makes it drop the whole directory. So the directories that matter — IFD0, EXIF, GPS — and
 * the values they point to are read here by offset, within the bounds below, entries that do
 * not fit are dropped one by one, and the rest is packed into one small, well-formed TIFF
 * that exifr parses in memory. The same applies to the EXIF block of JPEG, PNG, WebP, HEIF.
 */

/** Entries kept per directory (a hostile file may declare 65,535). */
const MAX_ENTRIES = 4096;
/** Out-of-line values read in all, and their bytes in all. */
const MAX_VALUE_READS = 2048;
const MAX_TOTAL_BYTES = 4 * 1024 * 1024;
/** Largest value read, by tag: XMP (ApplicationNotes) and IPTC can be large, nothing else. */
const MAX_VALUE = new Map([
  [0x02bc, MAX_XMP_BYTES], // XMP
  [0x83bb, 256 * 1024], // IPTC-NAA
]);
const MAX_OTHER_VALUE = 64 * 1024;

// Image structure and private blobs: large, and no use as metadata (TIFF 6.0, EXIF 2.32, DNG 1.6).
const SKIP = new Set([
  0x0111, // StripOffsets
  0x0117, // StripByteCounts
  0x0144, // TileOffsets
  0x0145, // TileByteCounts
  0x0201, // JPEGInterchangeFormat
  0x0202, // JPEGInterchangeFormatLength
  0x014a, // SubIFDs
  0x8649, // Photoshop image resources
  0x8773, // ICC profile
  0x927c, // MakerNote
  0x9286, // UserComment
  0xa005, // Interoperability IFD
  0xc634, // DNGPrivateData
]);
const EXIF_IFD = 0x8769;
const XMP = 0x02bc;
const IPTC = 0x83bb;
const GPS_IFD = 0x8825;
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

interface Entry {
  tag: number;
  type: number;
  count: number;
  value: Buffer;
}

/** True for the headers of TIFF and its RAW variants (II*, MM*, RW2 IIU, ORF IIRO/IIRS). */
export function isTiffHeader(head: Uint8Array): boolean {
  const order = String.fromCharCode(head[0] ?? 0, head[1] ?? 0);
  return (order === 'II' || order === 'MM') && (head[2] !== 0 || head[3] !== 0);
}

/** What a TIFF structure holds: the compact TIFF, and the XMP and IPTC blocks IFD0 carried. */
export interface CompactTiff {
  tiff: Buffer;
  /** TIFF tag 700 (XMP, XMP Specification Part 3, TIFF). */
  xmp: Buffer | null;
  /** TIFF tag 33723 (IPTC-NAA). */
  iptc: Buffer | null;
}

/** Reads IFD0, EXIF and GPS of a TIFF structure into a compact TIFF; null if unreadable. */
export async function compactTiff(source: ByteSource): Promise<CompactTiff | null> {
  const size = source.size;
  const header = await source.read(0, 8);
  if (header.length < 8) return null;
  const le = header[0] === 0x49;
  const budget = { reads: MAX_VALUE_READS, bytes: MAX_TOTAL_BYTES };
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));

  const readIfd = async (offset: number): Promise<Entry[]> => {
    if (offset < 8 || offset + 2 > size) return [];
    // At most 65,535 entries (786 KB) by construction; all are scanned so that the EXIF and
    // GPS pointers are found, but only MAX_ENTRIES of the others are kept.
    const countBytes = await source.read(offset, 2);
    if (countBytes.length < 2) return [];
    const table = await source.read(offset + 2, u16(countBytes, 0) * 12);
    const entries: Entry[] = [];
    for (let p = 0; p + 12 <= table.length; p += 12) {
      const tag = u16(table, p);
      const type = u16(table, p + 2);
      const count = u32(table, p + 4);
      const bytes = (TYPE_SIZE[type] ?? 0) * count;
      if (SKIP.has(tag) || bytes === 0) continue;
      if (entries.length >= MAX_ENTRIES && tag !== EXIF_IFD && tag !== GPS_IFD) continue;
      if (bytes <= 4) {
        entries.push({ tag, type, count, value: table.subarray(p + 8, p + 8 + bytes) });
        continue;
      }
      const at = u32(table, p + 8);
      const limit = MAX_VALUE.get(tag) ?? MAX_OTHER_VALUE;
      if (bytes > limit || at + bytes > size || bytes > budget.bytes || budget.reads <= 0) continue;
      budget.reads--;
      budget.bytes -= bytes;
      const value = await source.read(at, bytes);
      if (value.length === bytes) entries.push({ tag, type, count, value });
    }
    return entries;
  };

  const pointer = (entries: Entry[], tag: number) => {
    const entry = entries.find((e) => e.tag === tag && e.value.length === 4);
    return entry ? u32(entry.value, 0) : 0;
  };
  const ifd0 = await readIfd(u32(header, 4));
  if (ifd0.length === 0) return null;
  const exif = (await readIfd(pointer(ifd0, EXIF_IFD))).filter(
    (e) => e.tag !== EXIF_IFD && e.tag !== GPS_IFD,
  );
  const gps = (await readIfd(pointer(ifd0, GPS_IFD))).filter(
    (e) => e.tag !== EXIF_IFD && e.tag !== GPS_IFD,
  );
  const main = ifd0.filter((e) => ![EXIF_IFD, GPS_IFD, XMP, IPTC].includes(e.tag));
  const block = (tag: number) => ifd0.find((e) => e.tag === tag)?.value ?? null;
  return { tiff: packTiff(le, main, exif, gps), xmp: block(XMP), iptc: block(IPTC) };
}

/** Writes IFD0 (pointing at the EXIF and GPS directories that are not empty) and the values. */
function packTiff(le: boolean, ifd0: Entry[], exif: Entry[], gps: Entry[]): Buffer {
  const ptr = (tag: number): Entry => ({ tag, type: 4, count: 1, value: Buffer.alloc(4) });
  const main = [...ifd0];
  if (exif.length > 0) main.push(ptr(EXIF_IFD));
  if (gps.length > 0) main.push(ptr(GPS_IFD));
  const dirs = [main, exif, gps].filter((d) => d.length > 0);
  for (const d of dirs) d.sort((a, b) => a.tag - b.tag);
  const dirSize = (d: Entry[]) => 2 + d.length * 12 + 4;
  const dataSize = (d: Entry[]) =>
    d.reduce((n, e) => n + (e.value.length > 4 ? e.value.length + (e.value.length % 2) : 0), 0);
  const total = 8 + dirs.reduce((n, d) => n + dirSize(d) + dataSize(d), 0);
  const out = Buffer.alloc(total);
  const w16 = (v: number, o: number) => (le ? out.writeUInt16LE(v, o) : out.writeUInt16BE(v, o));
  const w32 = (v: number, o: number) => (le ? out.writeUInt32LE(v, o) : out.writeUInt32BE(v, o));
  out.write(le ? 'II' : 'MM', 0, 'latin1');
  w16(42, 2);
  w32(8, 4);
  const offsets: number[] = [];
  let at = 8;
  for (const d of dirs) {
    offsets.push(at);
    at += dirSize(d);
  }
  let next = 1;
  for (const e of main)
    if (e.tag === EXIF_IFD || e.tag === GPS_IFD) w32Into(e.value, offsets[next++] ?? 0, le);
  let data = at;
  dirs.forEach((d, i) => {
    let p = offsets[i] ?? 0;
    w16(d.length, p);
    p += 2;
    for (const e of d) {
      w16(e.tag, p);
      w16(e.type, p + 2);
      w32(e.count, p + 4);
      if (e.value.length <= 4) e.value.copy(out, p + 8);
      else {
        w32(data, p + 8);
        e.value.copy(out, data);
        data += e.value.length + (e.value.length % 2);
      }
      p += 12;
    }
    w32(0, p);
  });
  return out;
}

function w32Into(target: Buffer, value: number, le: boolean): void {
  if (le) target.writeUInt32LE(value, 0);
  else target.writeUInt32BE(value, 0);
}
