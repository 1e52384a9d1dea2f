// YuNet's raw outputs → face candidates, and the non-maximum suppression that follows. The
// decoding follows OpenCV's FaceDetectorYN (modules/objdetect/src/face_detect.cpp,
// `postProcess`), the reference implementation the model's authors ship with it.

/** A point in pixels. */
export type Point = [x: number, y: number];

/** A detected face in the detector's input pixels (before mapping back to the image). */
export interface FaceCandidate {
  /** Top-left corner and size, in pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
  /**
   * The five landmarks in YuNet's order: the eye on the image's left (the person's right eye),
   * the other eye, the nose tip, the mouth corner on the image's left, the other mouth corner.
   * This is the order of the ArcFace reference points, so alignment pairs them index by index.
   */
  landmarks: [Point, Point, Point, Point, Point];
  /** `sqrt(cls · obj)`, 0..1. */
  score: number;
}

/** The strides of YuNet's three heads; every input side must be a multiple of the largest. */
export const YUNET_STRIDES = [8, 16, 32] as const;

/** YuNet's twelve outputs for one image, by name (`cls_8`, `obj_16`, `bbox_32`, `kps_8`, …). */
export type YunetOutputs = Record<string, Float32Array>;

/**
 * Decodes YuNet's outputs for a padded input of `width`×`height` pixels (multiples of 32) into
 * the candidates scoring at least `minScore`, in no particular order.
 *
 * For stride `s` the head predicts one anchor per cell of a `(width/s)×(height/s)` grid, in
 * row-major order. At cell (c, r) the box centre is `((c + dx)·s, (r + dy)·s)`, its size
 * `(exp(dw)·s, exp(dh)·s)`, and landmark k is `((kx + c)·s, (ky + r)·s)`; the score is
 * `sqrt(cls · obj)` with both clamped to [0, 1] — all as in OpenCV's `postProcess`.
 * @throws Error if an output is missing or its size does not match the grid.
 */
export function decodeYunet(
  outputs: YunetOutputs,
  width: number,
  height: number,
  minScore: number,
): FaceCandidate[] {
  const faces: FaceCandidate[] = [];
  for (const stride of YUNET_STRIDES) {
    const cols = Math.floor(width / stride);
    const rows = Math.floor(height / stride);
    const anchors = cols * rows;
    const cls = output(outputs, `cls_${stride}`, anchors);
    const obj = output(outputs, `obj_${stride}`, anchors);
    const bbox = output(outputs, `bbox_${stride}`, anchors * 4);
    const kps = output(outputs, `kps_${stride}`, anchors * 10);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const score = Math.sqrt(clamp01(cls[i] as number) * clamp01(obj[i] as number));
        if (!(score >= minScore)) continue;
        const cx = (c + (bbox[i * 4] as number)) * stride;
        const cy = (r + (bbox[i * 4 + 1] as number)) * stride;
        const w = Math.exp(bbox[i * 4 + 2] as number) * stride;
        const h = Math.exp(bbox[i * 4 + 3] as number) * stride;
        const landmarks = Array.from(
          { length: 5 },
          (_, k): Point => [
            ((kps[i * 10 + 2 * k] as number) + c) * stride,
            ((kps[i * 10 + 2 * k + 1] as number) + r) * stride,
          ],
        ) as FaceCandidate['landmarks'];
        faces.push({ x: cx - w / 2, y: cy - h / 2, width: w, height: h, landmarks, score });
      }
    }
  }
  return faces;
}

function output(outputs: YunetOutputs, name: string, size: number): Float32Array {
  const data = outputs[name];
  if (!data) throw new Error(`YuNet output ${name} is missing`);
  if (data.length !== size) {
    throw new Error(`YuNet output ${name} has ${data.length} values, the grid needs ${size}`);
  }
  return data;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** An axis-aligned box: top-left corner and size. */
export interface BoxLike {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Intersection over union of two boxes; 0 when either is empty. */
export function iou(a: BoxLike, b: BoxLike): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy non-maximum suppression, as OpenCV's `dnn::NMSBoxes` does it: best score first, a box
 * is kept unless it overlaps an already kept one by more than `maxIou`; at most `topK` are kept.
 * Ties keep input order (the sort is stable), so the result is deterministic.
 * @returns the kept items, best score first.
 */
export function nonMaxSuppression<T extends BoxLike & { score: number }>(
  items: readonly T[],
  maxIou: number,
  topK: number,
): T[] {
  const ranked = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const item of ranked) {
    if (kept.length >= topK) break;
    if (kept.every((k) => iou(k, item) <= maxIou)) kept.push(item);
  }
  return kept;
}
