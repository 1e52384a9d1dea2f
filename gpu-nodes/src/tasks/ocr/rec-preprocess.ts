import { distance, type Quad } from './box-geometry.ts';
import type { RgbImage } from './det-preprocess.ts';

// The recogniser's input, following PaddleOCR: the line is cut out of the image upright
// (`get_rotate_crop_image`, tools/infer/utility.py), scaled to 48 pixels high keeping its aspect,
// normalised to [-1, 1] and padded on the right to the batch's width (`resize_norm_img`,
// tools/infer/predict_rec.py). The batch is never narrower than 320 (rec_image_shape 3,48,320,
// what the model was trained on) and grows to its widest line, as PaddleOCR's does: squeezing a
// long line into 320 pixels would blur its characters together.

/** The recogniser's input height. */
export const REC_HEIGHT = 48;
/** The narrowest batch PaddleOCR feeds (its `rec_image_shape` width). */
export const REC_MIN_WIDTH = 320;

/** One cut-out line: planar B, G, R, `REC_HEIGHT` rows of `width` values, normalised. */
export interface LineCrop {
  data: Float32Array;
  width: number;
}

/**
 * The corners to read a box from, top-left of the text first. A box at least 1.5 times taller
 * than wide is a vertical line: PaddleOCR turns such crops a quarter turn counter-clockwise
 * (`np.rot90`), so its top becomes its left and reading goes left to right.
 */
function readingCorners(quad: Quad): Quad {
  const width = Math.max(distance(quad[0], quad[1]), distance(quad[3], quad[2]));
  const height = Math.max(distance(quad[0], quad[3]), distance(quad[1], quad[2]));
  return height >= 1.5 * width ? [quad[1], quad[2], quad[3], quad[0]] : quad;
}

/** The width `quad`'s line has at `REC_HEIGHT` (at least 1, at most `maxWidth`). */
export function lineWidth(quad: Quad, maxWidth: number): number {
  const [p0, p1, p2, p3] = readingCorners(quad);
  const w = Math.max(distance(p0, p1), distance(p3, p2));
  const h = Math.max(distance(p0, p3), distance(p1, p2));
  if (h === 0) return 1;
  return Math.min(maxWidth, Math.max(1, Math.ceil((REC_HEIGHT * w) / h)));
}

/**
 * Cuts the line inside `quad` (corners clockwise from top-left, image pixels) out of `image`,
 * upright and `REC_HEIGHT` high. Each output pixel is the mean of up to 4×4 bilinear samples, so
 * large text shrinks without aliasing; outside the image the edge pixels repeat (cv2's
 * BORDER_REPLICATE, as in `get_rotate_crop_image`).
 */
export function cropLine(image: RgbImage, quad: Quad, maxWidth: number): LineCrop {
  const [p0, p1, p2, p3] = readingCorners(quad);
  const width = lineWidth(quad, maxWidth);
  const height = REC_HEIGHT;
  const along = Math.max(distance(p0, p1), distance(p3, p2)) / width;
  const across = Math.max(distance(p0, p3), distance(p1, p2)) / height;
  const n = Math.min(4, Math.max(1, Math.ceil(Math.max(along, across))));
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  const rgb: [number, number, number] = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < n; j++) {
        const t = (y + (j + 0.5) / n) / height;
        for (let i = 0; i < n; i++) {
          const s = (x + (i + 0.5) / n) / width;
          // A bilinear patch over the four corners: exact for the rectangles the detector gives,
          // and still sensible for a box the image edge clipped into another shape.
          const px = lerp2(p0[0], p1[0], p2[0], p3[0], s, t);
          const py = lerp2(p0[1], p1[1], p2[1], p3[1], s, t);
          sampleBilinear(image, px - 0.5, py - 0.5, rgb);
          r += rgb[0];
          g += rgb[1];
          b += rgb[2];
        }
      }
      // (v / 255 − 0.5) / 0.5 of the mean sample, into planes B, G, R (cv2's channel order,
      // which the model was trained on).
      const k = 1 / (127.5 * n * n);
      const at = y * width + x;
      data[at] = b * k - 1;
      data[plane + at] = g * k - 1;
      data[2 * plane + at] = r * k - 1;
    }
  }
  return { data, width };
}

function lerp2(a: number, b: number, c: number, d: number, s: number, t: number): number {
  return (1 - t) * ((1 - s) * a + s * b) + t * ((1 - s) * d + s * c);
}

// Bilinear sample at pixel-index coordinates, edges repeated.
function sampleBilinear(image: RgbImage, x: number, y: number, out: [number, number, number]) {
  const { data, width, height } = image;
  const cx = Math.min(Math.max(x, 0), width - 1);
  const cy = Math.min(Math.max(y, 0), height - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const i00 = (y0 * width + x0) * 3;
  const i01 = (y0 * width + x1) * 3;
  const i10 = (y1 * width + x0) * 3;
  const i11 = (y1 * width + x1) * 3;
  for (let c = 0; c < 3; c++) {
    const top = (data[i00 + c] as number) * (1 - fx) + (data[i01 + c] as number) * fx;
    const bottom = (data[i10 + c] as number) * (1 - fx) + (data[i11 + c] as number) * fx;
    out[c] = top * (1 - fy) + bottom * fy;
  }
}

/**
 * Groups lines into batches of at most `maxBatch` by width, narrowest first (PaddleOCR sorts by
 * aspect ratio the same way), so each batch pads little. Returns indices into `widths`.
 */
export function planBatches(widths: readonly number[], maxBatch: number): number[][] {
  const order = widths
    .map((_, i) => i)
    .sort((a, b) => (widths[a] as number) - (widths[b] as number));
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += maxBatch) batches.push(order.slice(i, i + maxBatch));
  return batches;
}

/**
 * The `[crops.length, 3, REC_HEIGHT, width]` input for `crops`, each left-aligned and padded with
 * zeros (mid-grey after normalisation, as `resize_norm_img` pads); `width` is the widest crop or
 * `REC_MIN_WIDTH`, whichever is more.
 */
export function recBatchTensor(crops: readonly LineCrop[]): { data: Float32Array; width: number } {
  const width = Math.max(REC_MIN_WIDTH, ...crops.map((c) => c.width));
  const plane = REC_HEIGHT * width;
  const data = new Float32Array(crops.length * 3 * plane);
  crops.forEach((crop, n) => {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < REC_HEIGHT; y++) {
        const from = (c * REC_HEIGHT + y) * crop.width;
        data.set(crop.data.subarray(from, from + crop.width), (n * 3 + c) * plane + y * width);
      }
    }
  });
  return { data, width };
}
