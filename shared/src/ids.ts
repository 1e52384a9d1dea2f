import { createHash } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';

/** A lowercase hex sha256 digest: the content address of an original. */
export const Sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256 digest (64 characters)');
export type Sha256 = z.infer<typeof Sha256>;

/** Entity and event ids are UUID v7, so they sort by creation time. */
export const Id = z.uuid();
export type Id = z.infer<typeof Id>;

/** A new UUID v7. */
export function newId(): string {
  return uuidv7();
}

/**
 * A UUID (version 8, RFC 9562) derived from its parts: the same parts always give the same
 * id. A worker names its result after the job it answers, so publishing the result again
 * after a redelivery is a duplicate the bus drops.
 */
export function deterministicId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x80;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
