import { cleanText } from './text-values.ts';

/** Bounds on the tags kept for the detail view (stored as jsonb with every image). */
export interface RawTagLimits {
  /** Size of the JSON text. */
  maxBytes: number;
  /** Keys in all, nested ones included. */
  maxKeys: number;
  /** Longer strings are dropped (embedded thumbnails, base64 blobs, Photoshop history). */
  maxString: number;
  /** Longer arrays are dropped (strip offsets, tone curves). */
  maxArray: number;
  maxDepth: number;
}

export const DEFAULT_RAW_LIMITS: RawTagLimits = {
  maxBytes: 32 * 1024,
  maxKeys: 500,
  maxString: 1000,
  maxArray: 64,
  maxDepth: 4,
};

// Editing state and history: large, and of no use in a detail view.
const SKIPPED = [
  /^crs:/,
  /^xmpMM:/,
  /^photoshop:DocumentAncestors$/,
  /^xmp:Thumbnails$/,
  /^xmpNote:/,
];

/**
 * The tags read, grouped (`ifd0`, `exif`, `gps`, `iptc`, `xmp`…), made JSON-safe and small:
 * no Buffers or typed arrays (short printable byte strings such as ExifVersion become text,
 * short numeric ones arrays), no NaN or Infinity, no NUL, no long strings, at most
 * `maxKeys` keys and `maxBytes` of JSON. Groups are filled in order, so EXIF comes first.
 */
export function boundRawTags(
  groups: Record<string, unknown>,
  limits: RawTagLimits = DEFAULT_RAW_LIMITS,
): Record<string, unknown> {
  const budget = { keys: limits.maxKeys, bytes: limits.maxBytes - 2 };
  const out: Record<string, unknown> = {};
  for (const [group, tags] of Object.entries(groups)) {
    if (!isPlainObject(tags) || budget.keys < 2 || budget.bytes < 16) continue;
    budget.keys--;
    budget.bytes -= JSON.stringify(group).length + 4;
    const kept = boundObject(tags, 1, limits, budget);
    if (Object.keys(kept).length > 0) out[group] = kept;
    else {
      budget.keys++;
      budget.bytes += JSON.stringify(group).length + 4;
    }
  }
  return out;
}

function boundObject(
  tags: Record<string, unknown>,
  depth: number,
  limits: RawTagLimits,
  budget: { keys: number; bytes: number },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (budget.keys <= 0) break;
    if (key === '__proto__' || key.length > 100 || SKIPPED.some((re) => re.test(key))) continue;
    const safe = jsonSafe(value, depth, limits, budget);
    if (safe === undefined) continue;
    const cost = JSON.stringify(key).length + JSON.stringify(safe).length + 2;
    if (cost > budget.bytes) continue;
    budget.bytes -= cost;
    budget.keys--;
    out[key] = safe;
  }
  return out;
}

function jsonSafe(
  value: unknown,
  depth: number,
  limits: RawTagLimits,
  budget: { keys: number; bytes: number },
): unknown {
  if (typeof value === 'string') {
    const text = cleanText(value, limits.maxString);
    return text ?? undefined;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (value instanceof Uint8Array) return byteText(value);
  if (ArrayBuffer.isView(value)) {
    if (
      value instanceof DataView ||
      (value as unknown as ArrayLike<unknown>).length > limits.maxArray
    )
      return undefined;
    return jsonSafe(Array.from(value as unknown as ArrayLike<unknown>), depth, limits, budget);
  }
  if (Array.isArray(value)) {
    if (value.length > limits.maxArray || depth >= limits.maxDepth) return undefined;
    const items = value
      .map((v) => (isPlainObject(v) ? undefined : jsonSafe(v, depth + 1, limits, budget)))
      .filter((v) => v !== undefined);
    return items.length > 0 ? items : undefined;
  }
  if (isPlainObject(value) && depth < limits.maxDepth) {
    const nested = boundObject(value, depth + 1, limits, budget);
    return Object.keys(nested).length > 0 ? nested : undefined;
  }
  return undefined;
}

/** Short printable byte strings (ExifVersion `0232`) as text; any other binary is dropped. */
function byteText(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || bytes.length > 64) return undefined;
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const body = bytes.subarray(0, end);
  if (body.length === 0 || !body.every((b) => b >= 0x20 && b < 0x7f)) return undefined;
  return String.fromCharCode(...body);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
