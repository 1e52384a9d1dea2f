/**
 * IPTC-IIM (Information Interchange Model 4.2): datasets of 0x1C, record, number, 16-bit
 * length, value. Record 2 holds the descriptive fields; record 1 dataset 90 says how its
 * text is encoded (UTF-8 when it is the ISO 2022 escape `ESC % G`). Without it, IIM's
 * default is ISO 8859-1, which readers, ExifTool included, take as Windows-1252.
 */
export type IptcCharset = 'utf-8' | 'latin1' | 'unknown';

// Record 2 datasets worth keeping, by number, with IPTC's names for them.
const NAMES = new Map<number, string>([
  [5, 'ObjectName'],
  [15, 'Category'],
  [20, 'SupplementalCategories'],
  [25, 'Keywords'],
  [40, 'SpecialInstructions'],
  [55, 'DateCreated'],
  [60, 'TimeCreated'],
  [80, 'Byline'],
  [85, 'BylineTitle'],
  [90, 'City'],
  [92, 'Sublocation'],
  [95, 'State'],
  [100, 'CountryCode'],
  [101, 'Country'],
  [103, 'OriginalTransmissionReference'],
  [105, 'Headline'],
  [110, 'Credit'],
  [115, 'Source'],
  [116, 'CopyrightNotice'],
  [120, 'Caption'],
  [122, 'Writer'],
]);
// Datasets that may repeat (marked "repeatable" in IIM 4.2).
const REPEATABLE = new Set([20, 25, 80, 85, 122]);
const MAX_DATASETS = 2000;

/** Parses an IPTC-IIM block into named record-2 fields, decoded per its charset. */
export function parseIptc(block: Uint8Array): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const values: [number, Uint8Array][] = [];
  let charset: IptcCharset = 'unknown';
  let p = 0;
  for (let n = 0; n < MAX_DATASETS && p + 5 <= block.length; n++) {
    if (block[p] !== 0x1c) break;
    const record = block[p + 1];
    const number = block[p + 2] ?? 0;
    const length = ((block[p + 3] ?? 0) << 8) | (block[p + 4] ?? 0);
    // Lengths with the top bit set announce an extended dataset (over 32 KB): not text we use.
    if (length & 0x8000) break;
    const value = block.subarray(p + 5, p + 5 + length);
    if (record === 1 && number === 90) charset = isUtf8Escape(value) ? 'utf-8' : 'latin1';
    if (record === 2 && NAMES.has(number)) values.push([number, value]);
    p += 5 + length;
  }
  for (const [number, value] of values) {
    const name = NAMES.get(number) as string;
    const text = decodeIptcText(value, charset);
    const previous = out[name];
    if (!REPEATABLE.has(number)) out[name] ??= text;
    else out[name] = previous === undefined ? [text] : [...(previous as string[]), text];
  }
  return out;
}

function isUtf8Escape(value: Uint8Array): boolean {
  return value[0] === 0x1b && value[1] === 0x25 && value[2] === 0x47;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const windows1252 = new TextDecoder('windows-1252');

/**
 * Decodes one IPTC value. With no declared charset, bytes that are valid UTF-8 are taken as
 * UTF-8 — many writers (Picasa, older phones) store UTF-8 without saying so, and Latin-1
 * text with accents almost never forms valid UTF-8; anything else is Windows-1252.
 */
export function decodeIptcText(value: Uint8Array, charset: IptcCharset): string {
  if (charset !== 'latin1') {
    try {
      return utf8.decode(value);
    } catch {
      // Not UTF-8 after all.
    }
  }
  return windows1252.decode(value);
}
