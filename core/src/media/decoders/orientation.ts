import type { Sharp } from 'sharp';

/**
 * EXIF orientation (TIFF 6.0 tag 0x0112, values 1–8) says how the stored pixels must be
 * transformed for display. These helpers apply a *given* orientation, for decoders whose
 * orientation does not come from the pixels' own EXIF (a RAW's IFD0 for its JPEG preview),
 * and translate HEIF's `irot`/`imir` properties into the same 1–8 vocabulary.
 */

// Each orientation as the 2×2 matrix mapping stored (x, y) to displayed (x', y'), y pointing
// down: 6 is "rotate 90° clockwise" (right → down), 5 the transpose, 7 the transverse.
const MATRICES: Record<number, readonly [number, number, number, number]> = {
  1: [1, 0, 0, 1],
  2: [-1, 0, 0, 1],
  3: [-1, 0, 0, -1],
  4: [1, 0, 0, -1],
  5: [0, 1, 1, 0],
  6: [0, -1, 1, 0],
  7: [0, -1, -1, 0],
  8: [0, 1, -1, 0],
};

/** A valid EXIF orientation, or null for a missing or out-of-range value. */
export function exifOrientation(value: unknown): number | null {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 8 ? n : null;
}

/** True when the orientation swaps width and height (5–8: a quarter turn). */
export function swapsAxes(orientation: number | null): boolean {
  return (orientation ?? 1) >= 5;
}

/**
 * Applies an explicit orientation to a sharp pipeline. sharp mirrors (flip/flop) *before* it
 * rotates, whatever the call order, so each orientation is written as mirror-then-rotate:
 * 5 (transpose) = flip, then 90°; 7 (transverse) = flop, then 90°.
 */
export function applyOrientation(image: Sharp, orientation: number | null): Sharp {
  switch (orientation) {
    case 2:
      return image.flop();
    case 3:
      return image.rotate(180);
    case 4:
      return image.flip();
    case 5:
      return image.flip().rotate(90);
    case 6:
      return image.rotate(90);
    case 7:
      return image.flop().rotate(90);
    case 8:
      return image.rotate(270);
    default:
      return image;
  }
}

/** One HEIF transformative property, in the order the file associates it with the image. */
export type HeifTransform =
  | { type: 'irot' /** anticlockwise quarter turns, 0–3 */; angle: number }
  | {
      type: 'imir' /** 0: about a vertical axis (left ↔ right), 1: about a horizontal axis */;
      axis: number;
    };

/**
 * The EXIF orientation equivalent to HEIF's `irot`/`imir` (ISO/IEC 23008-12 §6.5.10–12),
 * applied in file order. HEIF readers must ignore the EXIF Orientation tag in favour of these
 * (an iPhone writes both, and they agree; other cameras write EXIF 1 with an `irot`), and
 * libheif applies them while decoding, so this value is reported, never applied again.
 */
export function heifOrientation(transforms: readonly HeifTransform[]): number {
  let m: readonly number[] = MATRICES[1] as readonly number[];
  for (const t of transforms) {
    let step: readonly number[];
    if (t.type === 'irot') {
      // An anticlockwise quarter turn is EXIF 8; two are 3; three are 6.
      step = MATRICES[[1, 8, 3, 6][t.angle & 3] ?? 1] as readonly number[];
    } else {
      step = MATRICES[t.axis & 1 ? 4 : 2] as readonly number[];
    }
    m = multiply(step, m);
  }
  for (const [key, value] of Object.entries(MATRICES)) {
    if (value.every((v, i) => v === m[i])) return Number(key);
  }
  return 1;
}

function multiply(a: readonly number[], b: readonly number[]): number[] {
  const [a0 = 0, a1 = 0, a2 = 0, a3 = 0] = a;
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = b;
  return [a0 * b0 + a1 * b2, a0 * b1 + a1 * b3, a2 * b0 + a3 * b2, a2 * b1 + a3 * b3];
}
