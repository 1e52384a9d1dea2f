import {
  distance,
  insideConvexQuad,
  minAreaRect,
  orderClockwise,
  type Quad,
  rectCorners,
  unclipRect,
  type Vec,
} from './box-geometry.ts';
import { componentRunEnds, labelComponents } from './components.ts';

// From the DB detector's probability map to text boxes, following PaddleOCR's DBPostProcess
// (ppocr/postprocess/db_postprocess.py, `boxes_from_bitmap` with score_mode "fast") and the
// filtering and ordering of tools/infer/predict_det.py and predict_system.py.

/** A text box and how sure the detector is of it (mean probability inside, 0..1). */
export interface TextBox {
  /** Corners clockwise from top-left. */
  quad: Quad;
  score: number;
}

/** DBPostProcess's knobs; the defaults are PaddleOCR's inference defaults for PP-OCRv4. */
export interface DbOptions {
  /** A pixel is text when its probability exceeds this (`det_db_thresh`); default 0.3. */
  threshold?: number;
  /** Boxes whose mean probability is lower are dropped (`det_db_box_thresh`); default 0.6. */
  boxThreshold?: number;
  /**
   * How far a found region is grown back (`unclip_ratio`); default 2.0, the default of PaddleOCR
   * 3 and of PaddleX's OCR pipeline for PP-OCRv4. PaddleOCR 2's 1.5 cuts descenders and the tops
   * of capitals off rendered text (a 64-pixel "AEX photo 2026" lost 4% of its ink), and the
   * polygon is what AEX highlights.
   */
  unclipRatio?: number;
  /** At most this many regions are looked at (`max_candidates`); default 1000. */
  maxCandidates?: number;
  /** Regions whose shorter side is below this many map pixels are noise (`min_size`); default 3. */
  minSize?: number;
}

/**
 * Text boxes in a `width`×`height` probability map (row-major, values 0..1), in map pixel-centre
 * coordinates: threshold, 8-connected components, each component's minimum-area rectangle, its
 * mean probability as the score, then the DB unclip.
 */
export function boxesFromProbabilityMap(
  prob: Float32Array,
  width: number,
  height: number,
  options: DbOptions = {},
): TextBox[] {
  const threshold = options.threshold ?? 0.3;
  const boxThreshold = options.boxThreshold ?? 0.6;
  const unclipRatio = options.unclipRatio ?? 2;
  const maxCandidates = options.maxCandidates ?? 1000;
  const minSize = options.minSize ?? 3;
  if (prob.length !== width * height) {
    throw new RangeError(
      `map has ${prob.length} values, ${width}×${height} needs ${width * height}`,
    );
  }
  const mask = new Uint8Array(prob.length);
  for (let i = 0; i < prob.length; i++) mask[i] = (prob[i] as number) > threshold ? 1 : 0;
  const components = labelComponents(mask, width, height);
  const outlines = componentRunEnds(components, width).slice(0, maxCandidates);

  const boxes: TextBox[] = [];
  for (const points of outlines) {
    const rect = minAreaRect(points);
    if (Math.min(rect.width, rect.height) < minSize) continue;
    // PaddleOCR scores the tight box, before the unclip, so the margin it adds does not dilute it.
    const score = meanInside(prob, width, height, orderClockwise(rectCorners(rect)));
    if (score < boxThreshold) continue;
    const grown = unclipRect(rect, unclipRatio);
    if (Math.min(grown.width, grown.height) < minSize + 2) continue;
    boxes.push({ quad: orderClockwise(rectCorners(grown)), score });
  }
  return boxes;
}

// `box_score_fast`: the mean of the map over the box's pixels.
function meanInside(prob: Float32Array, width: number, height: number, quad: Quad): number {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = clamp(Math.floor(Math.min(...xs)), 0, width - 1);
  const x1 = clamp(Math.ceil(Math.max(...xs)), 0, width - 1);
  const y0 = clamp(Math.floor(Math.min(...ys)), 0, height - 1);
  const y1 = clamp(Math.ceil(Math.max(...ys)), 0, height - 1);
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insideConvexQuad(quad, x, y)) continue;
      sum += prob[y * width + x] as number;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/**
 * Maps boxes from a `mapWidth`×`mapHeight` probability map (pixel-centre coordinates) onto an
 * `imageWidth`×`imageHeight` image (continuous coordinates, 0..width), clips them to the image
 * and drops those whose sides end up 3 pixels or shorter (`filter_tag_det_res`).
 */
export function scaleBoxes(
  boxes: readonly TextBox[],
  map: { width: number; height: number },
  image: { width: number; height: number },
): TextBox[] {
  const sx = image.width / map.width;
  const sy = image.height / map.height;
  const out: TextBox[] = [];
  for (const box of boxes) {
    const quad = box.quad.map(
      ([x, y]): Vec => [
        clamp((x + 0.5) * sx, 0, image.width),
        clamp((y + 0.5) * sy, 0, image.height),
      ],
    ) as Quad;
    if (distance(quad[0], quad[1]) <= 3 || distance(quad[0], quad[3]) <= 3) continue;
    out.push({ quad, score: box.score });
  }
  return out;
}

/**
 * Sorts boxes in reading order: by top-left corner top to bottom, then, among boxes whose tops
 * are within `lineTolerance` pixels (one line of text), left to right. PaddleOCR's `sorted_boxes`
 * (predict_system.py) with its 10-pixel tolerance.
 */
export function sortReadingOrder<B extends { quad: Quad }>(
  boxes: readonly B[],
  lineTolerance = 10,
): B[] {
  const sorted = [...boxes].sort(
    (a, b) => a.quad[0][1] - b.quad[0][1] || a.quad[0][0] - b.quad[0][0],
  );
  for (let i = 0; i < sorted.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = sorted[j] as B;
      const b = sorted[j + 1] as B;
      if (Math.abs(b.quad[0][1] - a.quad[0][1]) < lineTolerance && b.quad[0][0] < a.quad[0][0]) {
        sorted[j] = b;
        sorted[j + 1] = a;
      } else {
        break;
      }
    }
  }
  return sorted;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
