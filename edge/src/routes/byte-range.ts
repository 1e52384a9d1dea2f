import type { ByteRange } from '../runtime/file-body.ts';

/**
 * The single byte range a `Range` header asks of a file of `size` bytes (RFC 9110 §14.1.2),
 * clamped to the file. `undefined` when there is no header or it is not one valid range:
 * the whole file is then sent, as §14.2 allows a server to ignore such a header.
 * `unsatisfiable` when the range starts past the end (416, §15.5.17).
 */
export function byteRangeOf(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // A suffix range: the last N bytes.
    const suffix = Number(m[2]);
    if (!Number.isSafeInteger(suffix)) return undefined;
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (!Number.isSafeInteger(start) || end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}
