import type { Sha256 } from './ids.ts';

/** The derived images every ingest makes (DESIGN.md, "Storage layout"). */
export const DerivedVariant = {
  thumb: { maxSize: 256, contentType: 'image/webp', file: 'thumb.webp' },
  preview: { maxSize: 1440, contentType: 'image/webp', file: 'preview.webp' },
} as const;
export type DerivedVariant = keyof typeof DerivedVariant;

/** Whether a string names a derived variant. */
export function isDerivedVariant(value: string): value is DerivedVariant {
  return Object.hasOwn(DerivedVariant, value);
}

/** `originals/<sha256[0:2]>/<sha256>`: content-addressed, so the same bytes land once. */
export function originalKey(sha256: Sha256): string {
  return `originals/${sha256.slice(0, 2)}/${sha256}`;
}

/** `derived/<sha256>/<variant>.webp`: immutable, so it can be cached for a year. */
export function derivedKey(sha256: Sha256, variant: DerivedVariant): string {
  return `derived/${sha256}/${DerivedVariant[variant].file}`;
}
