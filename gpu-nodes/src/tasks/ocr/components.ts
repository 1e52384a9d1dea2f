import type { Vec } from './box-geometry.ts';

// Connected components of the detector's binary text map. PaddleOCR calls cv2.findContours and
// fits a box to each contour; a component and its outer contour hold the same pixels, so two-pass
// labelling (Rosenfeld & Pfaltz) gives the same boxes without OpenCV. Unlike RETR_LIST contours,
// a hole inside a component never becomes a box of its own.

/** Each pixel's component, `0` for background and `1..count` for the components. */
export interface ComponentLabels {
  labels: Int32Array;
  count: number;
}

/**
 * Labels the 8-connected components of the non-zero pixels of a `width`×`height` mask (row-major).
 * Labels are numbered in the order the components' first pixels appear, top to bottom and left to
 * right.
 */
export function labelComponents(mask: Uint8Array, width: number, height: number): ComponentLabels {
  if (mask.length !== width * height) {
    throw new RangeError(
      `mask has ${mask.length} pixels, ${width}×${height} needs ${width * height}`,
    );
  }
  const labels = new Int32Array(width * height);
  // Union-find over provisional labels; parent[0] is the background.
  let parent = new Int32Array(1024);
  let next = 1;
  const find = (a: number): number => {
    let root = a;
    while ((parent[root] as number) !== root) root = parent[root] as number;
    // Path compression keeps later finds short on long, winding strokes.
    while ((parent[a] as number) !== root) {
      const up = parent[a] as number;
      parent[a] = root;
      a = up;
    }
    return root;
  };
  const union = (a: number, b: number): number => {
    const ra = find(a);
    const rb = find(b);
    // The smaller label wins, so the final numbering follows first appearance.
    if (ra < rb) parent[rb] = ra;
    else if (rb < ra) parent[ra] = rb;
    return Math.min(ra, rb);
  };
  const join = (label: number, neighbour: number): number =>
    neighbour === 0 ? label : label === 0 ? find(neighbour) : union(label, neighbour);

  // First pass: a provisional label from the already-visited neighbours (W, NW, N, NE).
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x] === 0) continue;
      const above = row - width + x;
      let label = join(0, x > 0 ? (labels[row + x - 1] as number) : 0);
      if (y > 0) {
        if (x > 0) label = join(label, labels[above - 1] as number);
        label = join(label, labels[above] as number);
        if (x < width - 1) label = join(label, labels[above + 1] as number);
      }
      if (label === 0) {
        if (next === parent.length) {
          const grown = new Int32Array(parent.length * 2);
          grown.set(parent);
          parent = grown;
        }
        parent[next] = next;
        label = next++;
      }
      labels[row + x] = label;
    }
  }

  // Second pass: every provisional label becomes its root's final, consecutive number.
  const final = new Int32Array(next);
  let count = 0;
  for (let l = 1; l < next; l++) {
    const root = find(l);
    if (root === l) final[l] = ++count;
  }
  for (let l = 1; l < next; l++) final[l] = final[find(l)] as number;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (l !== 0) labels[i] = final[l] as number;
  }
  return { labels, count };
}

/**
 * For each component `1..count` (at index `label - 1`), the first and last pixel of every
 * horizontal run of its pixels, as pixel-centre coordinates. The convex hull of a component is the
 * hull of these points, so a box fits them as well as it fits every pixel, at a fraction of the
 * cost.
 */
export function componentRunEnds({ labels, count }: ComponentLabels, width: number): Vec[][] {
  const points: Vec[][] = Array.from({ length: count }, () => []);
  const height = labels.length / width;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let x = 0;
    while (x < width) {
      const label = labels[row + x] as number;
      if (label === 0) {
        x++;
        continue;
      }
      const start = x;
      while (x + 1 < width && labels[row + x + 1] === label) x++;
      const list = points[label - 1] as Vec[];
      list.push([start, y]);
      if (x !== start) list.push([x, y]);
      x++;
    }
  }
  return points;
}
