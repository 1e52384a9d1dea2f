/** Longest description kept (the API's limit for a description). */
export const MAX_DESCRIPTION = 10_000;
/** Longest keyword kept, and how many (the API's limits for keywords). */
export const MAX_KEYWORD = 200;
export const MAX_KEYWORDS = 500;

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
const CONTROL = /[\x01-\x08\x0B\x0C\x0E-\x1F\x7F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Trims a metadata string and makes it storable: camera strings are NUL- or space-padded to a
 * fixed width, and Postgres refuses NUL in text and lone surrogates in jsonb. Null when
 * nothing is left or the text is longer than `max`.
 */
export function cleanText(value: unknown, max = 2000): string | null {
  if (typeof value !== 'string') return null;
  // A TIFF ASCII value ends at its first NUL (TIFF 6.0, type ASCII); what follows is leftovers.
  const end = value.indexOf('\0');
  const clean = (end === -1 ? value : value.slice(0, end))
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(CONTROL, '')
    .trim();
  return clean.length > 0 && clean.length <= max ? clean : null;
}

// What cameras and phone firmware write into ImageDescription when the user wrote nothing.
const JUNK_DESCRIPTIONS = [
  /^(?:[A-Z][A-Z\d .,&-]* )?DIGITAL (?:STILL )?CAMERA$/, // OLYMPUS / KONICA MINOLTA DIGITAL CAMERA
  /^digital (?:still )?camera$/i,
  /^(?:sony )?dsc$/i,
  /^exif[_ ]jpeg(?:[_ ](?:picture|\d+))?$/i,
  /^(?:default|untitled|image|picture|photo|description|camera|jpeg|hdr|no description)$/i,
  /^(?:lg electronics|samsung|meitu|huawei|xiaomi)$/i,
  /^[\s\p{P}\p{S}]*$/u, // blanks, dots, dashes
];

/**
 * A description worth showing: trimmed, not camera boilerplate ("OLYMPUS DIGITAL CAMERA",
 * "SONY DSC"), and not merely the camera's make or model repeated (Samsung and WWL do that).
 */
export function cleanDescription(value: unknown, camera: (string | null)[] = []): string | null {
  const raw = cleanText(value, Number.POSITIVE_INFINITY);
  if (raw === null) return null;
  const text = raw.length > MAX_DESCRIPTION ? raw.slice(0, MAX_DESCRIPTION).trimEnd() : raw;
  if (JUNK_DESCRIPTIONS.some((re) => re.test(text))) return null;
  const lower = text.toLowerCase();
  if (camera.some((c) => c !== null && c.toLowerCase() === lower)) return null;
  return text;
}

/**
 * Keywords as stored: trimmed, NFC-normalised, deduplicated without regard to case (the
 * first spelling wins), at most {@link MAX_KEYWORDS} of at most {@link MAX_KEYWORD} characters.
 */
export function cleanKeywords(values: Iterable<unknown>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const value of values) {
    const text = cleanText(typeof value === 'number' ? String(value) : value, MAX_KEYWORD);
    if (text === null) continue;
    const keyword = text.normalize('NFC');
    const key = keyword.toLocaleLowerCase('en-US');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(keyword);
    if (out.length >= MAX_KEYWORDS) break;
  }
  return out;
}

/** The first element of an array or typed array, or the value itself. */
export function first(value: unknown): unknown {
  if (Array.isArray(value)) return value[0];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return (value as unknown as ArrayLike<unknown>)[0];
  return value;
}

/**
 * A positive finite number from a number, a numeric string, or an XMP rational (`1/500`,
 * `28/10`). Null for zero, negatives, `x/0` and text such as `f/5,6`.
 */
export function positiveNumber(value: unknown): number | null {
  const v = first(value);
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const m = /^\s*(-?\d+(?:\.\d+)?)(?:\s*\/\s*(\d+(?:\.\d+)?))?\s*$/.exec(v);
    if (!m) return null;
    n = m[2] === undefined ? Number(m[1]) : Number(m[1]) / Number(m[2]);
  } else return null;
  return Number.isFinite(n) && n > 0 ? n : null;
}
