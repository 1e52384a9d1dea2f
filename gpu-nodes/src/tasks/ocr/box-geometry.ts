// Plane geometry for text boxes: what PaddleOCR gets from OpenCV (cv2.minAreaRect,
// cv2.boxPoints) and pyclipper (the DB "unclip"), written out because AEX has no OpenCV and the
// pieces are small. Coordinates are pixels, y pointing down.

/** A point `[x, y]`. */
export type Vec = [number, number];
/** Four corners; boxes from this module are clockwise from top-left (on screen, y down). */
export type Quad = [Vec, Vec, Vec, Vec];

/**
 * The convex hull of `points` (Andrew's monotone chain), counter-clockwise in y-up terms,
 * without collinear points. Fewer than three distinct points come back as they are, deduplicated.
 */
export function convexHull(points: readonly Vec[]): Vec[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const unique = sorted.filter((p, i) => {
    const prev = sorted[i - 1];
    return !prev || prev[0] !== p[0] || prev[1] !== p[1];
  });
  if (unique.length < 3) return unique;
  const cross = (o: Vec, a: Vec, b: Vec) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Vec[] = [];
  for (const p of unique) {
    while (lower.length >= 2 && cross(lower.at(-2) as Vec, lower.at(-1) as Vec, p) <= 0)
      lower.pop();
    lower.push(p);
  }
  const upper: Vec[] = [];
  for (let i = unique.length - 1; i >= 0; i--) {
    const p = unique[i] as Vec;
    while (upper.length >= 2 && cross(upper.at(-2) as Vec, upper.at(-1) as Vec, p) <= 0)
      upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** A rectangle of any orientation: centre, unit axis `u` (with `v` perpendicular), sizes. */
export interface RotatedRect {
  center: Vec;
  /** Unit vector along the `width` side. */
  axis: Vec;
  width: number;
  height: number;
}

/**
 * The rectangle of least area that contains `points` (cv2.minAreaRect): one of its sides lies
 * on an edge of the convex hull, so trying each hull edge's direction finds it. A single point
 * or a straight run of points gives a rectangle with a zero side, as OpenCV's does.
 */
export function minAreaRect(points: readonly Vec[]): RotatedRect {
  const hull = convexHull(points);
  const first = hull[0];
  if (!first) throw new RangeError('minAreaRect needs at least one point');
  if (hull.length === 1) return { center: [first[0], first[1]], axis: [1, 0], width: 0, height: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Number.POSITIVE_INFINITY;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i] as Vec;
    const b = hull[(i + 1) % hull.length] as Vec;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    let minU = Number.POSITIVE_INFINITY;
    let maxU = Number.NEGATIVE_INFINITY;
    let minV = Number.POSITIVE_INFINITY;
    let maxV = Number.NEGATIVE_INFINITY;
    for (const [x, y] of hull) {
      const pu = x * ux + y * uy;
      const pv = -x * uy + y * ux;
      if (pu < minU) minU = pu;
      if (pu > maxU) maxU = pu;
      if (pv < minV) minV = pv;
      if (pv > maxV) maxV = pv;
    }
    const area = (maxU - minU) * (maxV - minV);
    // Ties (a square, or both edge directions of an axis-aligned rectangle) keep the first.
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = {
        center: [cu * ux - cv * uy, cu * uy + cv * ux],
        axis: [ux, uy],
        width: maxU - minU,
        height: maxV - minV,
      };
    }
  }
  return best as RotatedRect;
}

/** The rectangle's corners (cv2.boxPoints), in no promised order. */
export function rectCorners(rect: RotatedRect): Quad {
  const [cx, cy] = rect.center;
  const [ux, uy] = rect.axis;
  const hw = rect.width / 2;
  const hh = rect.height / 2;
  const corner = (su: number, sv: number): Vec => [
    cx + su * hw * ux - sv * hh * uy,
    cy + su * hw * uy + sv * hh * ux,
  ];
  return [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1)];
}

/**
 * The DB "unclip": grows a rectangle by `distance = area × ratio / perimeter` on every side.
 * PaddleOCR offsets the box with pyclipper (round joins) and takes cv2.minAreaRect of the
 * result; the rounded corners of that offset polygon stay inside the rectangle grown by the
 * same distance, so growing the rectangle directly gives the same box without a polygon library.
 * The detector was trained on text regions shrunk by this rule (DB paper, §3.3), which is why the
 * found regions must be grown back.
 */
export function unclipRect(rect: RotatedRect, ratio: number): RotatedRect {
  const perimeter = 2 * (rect.width + rect.height);
  if (perimeter === 0) return rect;
  const distance = (rect.width * rect.height * ratio) / perimeter;
  return { ...rect, width: rect.width + 2 * distance, height: rect.height + 2 * distance };
}

/**
 * Orders four corners clockwise from top-left the way PaddleOCR does (`get_mini_boxes`,
 * `order_points_clockwise`): the two left-most points are the left side, the upper of them the
 * top-left; likewise on the right.
 */
export function orderClockwise(quad: readonly Vec[]): Quad {
  const byX = [...quad].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const [l0, l1, r0, r1] = byX as Quad;
  const [tl, bl] = l0[1] <= l1[1] ? [l0, l1] : [l1, l0];
  const [tr, br] = r0[1] <= r1[1] ? [r0, r1] : [r1, r0];
  return [tl, tr, br, bl];
}

/** The length of side `a`→`b`. */
export function distance(a: Vec, b: Vec): number {
  return Math.hypot(b[0] - a[0], b[1] - a[1]);
}

/**
 * Whether pixel centre `(x, y)` lies in the convex `quad` or within `tolerance` pixels outside
 * it; cv2.fillPoly, which PaddleOCR's box score uses, also paints the pixels the outline crosses.
 */
export function insideConvexQuad(quad: Quad, x: number, y: number, tolerance = 0.5): boolean {
  // The sign of the area tells the winding; inside is on the same side of every edge.
  let area = 0;
  for (let i = 0; i < 4; i++) {
    const a = quad[i] as Vec;
    const b = quad[(i + 1) % 4] as Vec;
    area += a[0] * b[1] - b[0] * a[1];
  }
  const sign = area >= 0 ? 1 : -1;
  for (let i = 0; i < 4; i++) {
    const a = quad[i] as Vec;
    const b = quad[(i + 1) % 4] as Vec;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const cross = ((b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])) * sign;
    if (cross < -tolerance * len) return false;
  }
  return true;
}
