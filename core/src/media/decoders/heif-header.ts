import { CorruptImageError } from '../errors.ts';
import { type Box, childBoxes, topLevelBoxes } from './isobmff.ts';
import { type HeifTransform, heifOrientation } from './orientation.ts';
import type { RandomAccessFile } from './random-access-file.ts';

/** What a HEIF file's `meta` box says about its primary image, before any decoding. */
export interface HeifHeader {
  /** Size of the coded image (`ispe`), before `irot`. */
  width: number;
  height: number;
  /** EXIF-equivalent of the primary image's `irot`/`imir`. */
  orientation: number;
}

// An iPhone's meta box (a 48-tile grid) is a few kilobytes; anything near this is hostile.
const MAX_META_BYTES = 8 << 20;

/**
 * Reads the primary item's `ispe` (image spatial extents, mandatory for every HEIF image item)
 * and its `irot`/`imir` from the `meta` box (ISO/IEC 23008-12 §9), so the pixel limit is
 * checked on the header alone and the WebAssembly decoder never sees a decompression bomb.
 */
export async function readHeifHeader(file: RandomAccessFile): Promise<HeifHeader> {
  const meta = (await topLevelBoxes(file)).find((box) => box.type === 'meta');
  if (!meta) throw new CorruptImageError('the HEIF file has no meta box');
  if (meta.end - meta.start > MAX_META_BYTES) {
    throw new CorruptImageError(`the HEIF meta box is ${meta.end - meta.start} bytes`);
  }
  const buf = await file.read(meta.start, meta.end - meta.start);
  // `meta` is a FullBox: its children start after version and flags.
  const children = childBoxes(buf, meta.body - meta.start + 4, buf.length);
  const pitm = children.find((box) => box.type === 'pitm');
  const iprp = children.find((box) => box.type === 'iprp');
  if (!pitm || !iprp) throw new CorruptImageError('the HEIF file names no primary image');
  const primary =
    buf[pitm.body] === 0 ? buf.readUInt16BE(pitm.body + 4) : buf.readUInt32BE(pitm.body + 4);

  const inner = childBoxes(buf, iprp.body, iprp.end);
  const ipco = inner.find((box) => box.type === 'ipco');
  if (!ipco) throw new CorruptImageError('the HEIF file has no item properties');
  const properties = childBoxes(buf, ipco.body, ipco.end);
  const associated = inner
    .filter((box) => box.type === 'ipma')
    .flatMap((box) => associations(buf, box, primary))
    .map((index) => properties[index - 1])
    .filter((box): box is Box => box !== undefined);

  const ispe = associated.find((box) => box.type === 'ispe');
  if (!ispe) throw new CorruptImageError('the primary HEIF image has no size (ispe)');
  const transforms: HeifTransform[] = [];
  for (const box of associated) {
    const value = buf[box.body] ?? 0;
    if (box.type === 'irot') transforms.push({ type: 'irot', angle: value & 3 });
    if (box.type === 'imir') transforms.push({ type: 'imir', axis: value & 1 });
  }
  return {
    // `ispe` is a FullBox: width and height follow version and flags.
    width: buf.readUInt32BE(ispe.body + 4),
    height: buf.readUInt32BE(ispe.body + 8),
    orientation: heifOrientation(transforms),
  };
}

/** 1-based `ipco` indices that an `ipma` box associates with `item`, in file order. */
function associations(buf: Buffer, ipma: Box, item: number): number[] {
  const version = buf[ipma.body] ?? 0;
  const wide = ((buf[ipma.body + 3] ?? 0) & 1) === 1;
  let at = ipma.body + 4;
  const count = buf.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < count && at < ipma.end; i++) {
    const id = version < 1 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
    at += version < 1 ? 2 : 4;
    const n = buf[at] ?? 0;
    at += 1;
    const indices: number[] = [];
    for (let j = 0; j < n; j++) {
      indices.push(wide ? buf.readUInt16BE(at) & 0x7fff : (buf[at] ?? 0) & 0x7f);
      at += wide ? 2 : 1;
    }
    if (id === item) return indices;
  }
  return [];
}
