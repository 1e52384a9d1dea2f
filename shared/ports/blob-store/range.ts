/**
 * Throws `RangeError` for a range no HTTP `Range` header could ask for: fractional or
 * negative offsets, or an end before the start (RFC 9110 §14.1.1 calls that header invalid,
 * so the caller should have ignored it). A range past the end of the blob is a different
 * matter, answered per blob with `BlobRangeError`.
 */
export function checkRange(range: { start: number; end?: number }): void {
  const { start, end } = range;
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!whole(start) || (end !== undefined && (!whole(end) || end < start))) {
    throw new RangeError(`invalid byte range ${start}-${end ?? ''}`);
  }
}
