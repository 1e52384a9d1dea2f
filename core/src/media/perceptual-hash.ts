import type { Sharp } from 'sharp';

const SIZE = 32;
const LOW = 8;

// cos((2x + 1) u π / 2N), computed once.
const COS = Array.from({ length: LOW }, (_, u) =>
  Float64Array.from({ length: SIZE }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * SIZE))),
);

/**
 * The DCT perceptual hash (pHash): the image as 32×32 grey, its 2-D DCT, and one bit per
 * low-frequency coefficient (8×8) telling whether it is above their median. Resizing,
 * re-encoding and small crops flip few bits, so near-duplicates are a small Hamming
 * distance apart.
 */
export async function perceptualHash(image: Sharp): Promise<bigint> {
  const grey = await image.resize(SIZE, SIZE, { fit: 'fill' }).greyscale().raw().toBuffer();
  const rows = new Float64Array(LOW * SIZE);
  for (let u = 0; u < LOW; u++) {
    const cu = COS[u] as Float64Array;
    for (let y = 0; y < SIZE; y++) {
      let sum = 0;
      for (let x = 0; x < SIZE; x++) sum += (grey[y * SIZE + x] ?? 0) * (cu[x] ?? 0);
      rows[u * SIZE + y] = sum;
    }
  }
  const coefficients: number[] = [];
  for (let v = 0; v < LOW; v++) {
    const cv = COS[v] as Float64Array;
    for (let u = 0; u < LOW; u++) {
      let sum = 0;
      for (let y = 0; y < SIZE; y++) sum += (rows[u * SIZE + y] ?? 0) * (cv[y] ?? 0);
      coefficients.push(sum);
    }
  }
  // The DC term (overall brightness) says nothing about structure: left out of the median.
  const median =
    [...coefficients.slice(1)].sort((a, b) => a - b)[Math.floor((coefficients.length - 1) / 2)] ??
    0;
  let hash = 0n;
  for (const c of coefficients) hash = (hash << 1n) | (c > median ? 1n : 0n);
  return BigInt.asIntN(64, hash);
}

/** Bits that differ between two hashes. */
export function hammingDistance(a: bigint, b: bigint): number {
  let x = BigInt.asUintN(64, a ^ b);
  let count = 0;
  while (x) {
    x &= x - 1n;
    count++;
  }
  return count;
}
