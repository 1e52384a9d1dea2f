import { CorruptImageError } from '../errors.ts';
import { topLevelBoxes } from './isobmff.ts';
import { exifOrientation } from './orientation.ts';
import type { RandomAccessFile } from './random-access-file.ts';

/** What a JPEG XL codestream's first bytes say, before any decoding. */
export interface JxlHeader {
  width: number;
  height: number;
  /** The codestream's own orientation (1–8), which libjxl applies while decoding. */
  orientation: number;
}

const CONTAINER = Buffer.from([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]);

/**
 * Reads the SizeHeader and the orientation of ImageMetadata (ISO/IEC 18181-1 §A.3–A.6) from a
 * bare codestream (`FF 0A`) or from the `jxlc`/first `jxlp` box of the container format. The
 * WebAssembly decoder has no header-only call, so this is where the pixel limit is enforced.
 */
export async function readJxlHeader(file: RandomAccessFile): Promise<JxlHeader> {
  const head = await file.read(0, CONTAINER.length);
  let start = 0;
  if (head.equals(CONTAINER)) {
    const box = (await topLevelBoxes(file)).find((b) => b.type === 'jxlc' || b.type === 'jxlp');
    if (!box) throw new CorruptImageError('the JPEG XL container has no codestream box');
    // A `jxlp` (partial codestream) box starts with a 4-byte sequence index.
    start = box.type === 'jxlp' ? box.body + 4 : box.body;
  }
  const bytes = await file.read(start, 32);
  if (bytes[0] !== 0xff || bytes[1] !== 0x0a) {
    throw new CorruptImageError('the JPEG XL codestream signature is missing');
  }
  return parseCodestreamHeader(bytes.subarray(2));
}

/** Parses SizeHeader + the start of ImageMetadata; exported for the header tests. */
export function parseCodestreamHeader(bytes: Uint8Array): JxlHeader {
  const bits = new BitReader(bytes);
  // U32(Bits(9), Bits(13), Bits(18), Bits(30)) + 1: the distribution of both dimensions.
  const dimension = () => bits.read([9, 13, 18, 30][bits.read(2)] ?? 30) + 1;
  const small = bits.read(1) === 1;
  const height = small ? (bits.read(5) + 1) * 8 : dimension();
  const ratio = bits.read(3);
  let width: number;
  if (ratio === 0) width = small ? (bits.read(5) + 1) * 8 : dimension();
  else {
    const [num, den] = RATIOS[ratio] ?? [1, 1];
    width = Math.floor((height * num) / den);
  }
  // ImageMetadata: all_default, then extra_fields, then orientation − 1 in 3 bits.
  let orientation = 1;
  if (bits.read(1) === 0 && bits.read(1) === 1)
    orientation = exifOrientation(bits.read(3) + 1) ?? 1;
  return { width, height, orientation };
}

// Aspect ratios a SizeHeader may name instead of coding the width (ratio 1–7).
const RATIOS: Record<number, [number, number]> = {
  1: [1, 1],
  2: [12, 10],
  3: [4, 3],
  4: [3, 2],
  5: [16, 9],
  6: [5, 4],
  7: [2, 1],
};

/** JPEG XL packs fields least-significant bit first. */
class BitReader {
  private position = 0;
  constructor(private readonly bytes: Uint8Array) {}

  read(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.bytes[this.position >> 3];
      if (byte === undefined) throw new CorruptImageError('the JPEG XL header is cut short');
      value += ((byte >> (this.position & 7)) & 1) * 2 ** i;
      this.position++;
    }
    return value;
  }
}
