import type { RgbImage } from './preprocess.ts';

/** A point in pixels. */
type Point = readonly [x: number, y: number];

/** Side of the aligned face crop that ArcFace-family embedders (SFace, MobileFaceNet) take. */
export const ALIGNED_SIZE = 112;

/**
 * Where the five landmarks sit in a 112×112 ArcFace crop: the eye on the image's left, the other
 * eye, the nose tip, the mouth corner on the image's left, the other one. These are
 * insightface's `arcface_dst` (`face_align.py`), which OpenCV's FaceRecognizerSF copies in
 * `getSimilarityTransformMatrix` (modules/objdetect/src/face_recognize.cpp); the embedders
 * were trained on crops made with them.
 */
export const ARCFACE_REFERENCE: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/**
 * A similarity transform (uniform scale, rotation, translation):
 * `x' = a·x − b·y + tx`, `y' = b·x + a·y + ty`. The scale is `hypot(a, b)`.
 */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Applies `t` to a point. */
export function applySimilarity(t: Similarity, [x, y]: Point): [number, number] {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

/**
 * The similarity transform that maps `from` onto `to` with the least squared error, reflections
 * excluded: Umeyama's estimate (IEEE PAMI 13(4), 1991), which insightface's `norm_crop` (via
 * scikit-image's `SimilarityTransform`) and OpenCV's FaceRecognizerSF compute with an SVD. In
 * 2-D it has a closed form: with both point sets centred, `a = Σ(x·x' + y·y') / Σ|p|²` and
 * `b = Σ(x·y' − y·x') / Σ|p|²`.
 * @throws RangeError if the lists differ in length, have fewer than two points, or `from`'s
 *   points all coincide (no scale or rotation can be told from them).
 */
export function estimateSimilarity(from: readonly Point[], to: readonly Point[]): Similarity {
  const n = from.length;
  if (n !== to.length || n < 2) {
    throw new RangeError(`need two equally long lists of ≥ 2 points, got ${n} and ${to.length}`);
  }
  const mean = (points: readonly Point[], axis: 0 | 1) =>
    points.reduce((sum, p) => sum + p[axis], 0) / n;
  const [fx, fy, tx, ty] = [mean(from, 0), mean(from, 1), mean(to, 0), mean(to, 1)];
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const x = (from[i] as Point)[0] - fx;
    const y = (from[i] as Point)[1] - fy;
    const u = (to[i] as Point)[0] - tx;
    const v = (to[i] as Point)[1] - ty;
    dot += x * u + y * v;
    cross += x * v - y * u;
    norm += x * x + y * y;
  }
  if (!(norm > 1e-12)) throw new RangeError('the source points coincide');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

/**
 * Warps the face whose landmarks `t` maps onto {@link ARCFACE_REFERENCE} into a
 * `size`×`size` RGB crop, sampling `image` through the inverse transform with bilinear
 * interpolation and black outside the image — what `cv2.warpAffine(…, INTER_LINEAR)` does in
 * the reference pipelines.
 *
 * Written here rather than with sharp's `affine()`: that runs a libvips pipeline over the
 * whole preview per face and sizes its output canvas from the transformed image, whereas the
 * crop is 12,544 samples. When the face is larger than the crop (the transform shrinks), each
 * output pixel averages an n×n grid of bilinear samples spread over its footprint, n = the
 * shrink factor rounded up, at most 4: a large face is box-filtered rather than aliased.
 */
export function warpFace(image: RgbImage, t: Similarity, size = ALIGNED_SIZE): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  // The inverse of [[a, −b], [b, a]] is [[a, b], [−b, a]] / (a² + b²).
  const det = t.a * t.a + t.b * t.b;
  if (!(det > 0)) throw new RangeError('the transform is degenerate');
  const { data, width, height } = image;
  const ia = t.a / det;
  const ib = t.b / det;
  const samples = Math.min(4, Math.max(1, Math.ceil(1 / Math.sqrt(det) - 1e-9)));
  const step = 1 / samples;
  const count = samples * samples;
  const stride = width * 3;
  // For the rare samples at or past the image's edge.
  const edge = new Float64Array(3);
  // 12,544 × samples² bilinear samples per face: the sums live in locals and the sample is
  // written out here rather than called (1.1–2× faster, measured), adding in the order the
  // helper did, so crops stay bit for bit what they were.
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sv = 0; sv < samples; sv++) {
        // Sub-sample offsets are centred on the output pixel: ±(step/2 … ½ − step/2).
        const dv = v + (sv + 0.5) * step - 0.5 - t.ty;
        for (let su = 0; su < samples; su++) {
          const du = u + (su + 0.5) * step - 0.5 - t.tx;
          const x = ia * du + ib * dv;
          const y = -ib * du + ia * dv;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
            const fx = x - x0;
            const fy = y - y0;
            // Integer indices (`| 0`, safe inside the image) keep the reads on the fast path.
            const i = (y0 * stride + x0 * 3) | 0;
            const j = (i + stride) | 0;
            const w00 = (1 - fx) * (1 - fy);
            const w10 = fx * (1 - fy);
            const w01 = (1 - fx) * fy;
            const w11 = fx * fy;
            r =
              r +
              w00 * (data[i] as number) +
              w10 * (data[i + 3] as number) +
              w01 * (data[j] as number) +
              w11 * (data[j + 3] as number);
            g =
              g +
              w00 * (data[i + 1] as number) +
              w10 * (data[i + 4] as number) +
              w01 * (data[j + 1] as number) +
              w11 * (data[j + 4] as number);
            b =
              b +
              w00 * (data[i + 2] as number) +
              w10 * (data[i + 5] as number) +
              w01 * (data[j + 2] as number) +
              w11 * (data[j + 5] as number);
          } else {
            edge[0] = r;
            edge[1] = g;
            edge[2] = b;
            addEdgeSample(data, width, height, x, y, edge);
            r = edge[0] as number;
            g = edge[1] as number;
            b = edge[2] as number;
          }
        }
      }
      const o = (v * size + u) * 3;
      out[o] = Math.round(r / count);
      out[o + 1] = Math.round(g / count);
      out[o + 2] = Math.round(b / count);
    }
  }
  return out;
}

// Adds the bilinear sample at (x, y), one of whose neighbours lies outside the image, to `acc`;
// pixels outside count as black, as with OpenCV's default BORDER_CONSTANT.
function addEdgeSample(
  data: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
  acc: Float64Array,
): void {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  for (let dy = 0; dy <= 1; dy++) {
    const yy = y0 + dy;
    if (yy < 0 || yy >= height) continue;
    const wy = dy === 0 ? 1 - fy : fy;
    for (let dx = 0; dx <= 1; dx++) {
      const xx = x0 + dx;
      if (xx < 0 || xx >= width) continue;
      const w = wy * (dx === 0 ? 1 - fx : fx);
      const i = (yy * width + xx) * 3;
      for (let c = 0; c < 3; c++) acc[c] = (acc[c] as number) + w * (data[i + c] as number);
    }
  }
}
