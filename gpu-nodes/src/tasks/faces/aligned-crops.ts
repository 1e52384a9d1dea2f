import { ARCFACE_REFERENCE, estimateSimilarity, type Similarity, warpFace } from './align.ts';
import type { FaceCandidate } from './postprocess.ts';
import type { DetectionImage, RgbImage } from './preprocess.ts';

/**
 * The aligned 112×112 crop of each face in `detection` (landmarks in the upright image's pixels,
 * as the detector reports them). A face is sampled from the detection-size pixels when they
 * hold at least one pixel per crop pixel of it ({@link detectionPixelsSuffice}); any other face
 * from the image at its own size, which `decodeFull` gives and which is asked for at most once,
 * only when such a face is found. Most photos have no face, and a face ≳ 100 px wide in a
 * 1440 px preview is shrunk into the crop either way: decoding the preview a second time at
 * full size (~45 ms) is left to photos with small faces.
 *
 * Measured with MobileFaceNet on the fixture faces, as cosine to the crop from the full-size
 * pixels: ≥ 0.993 for faces the detection pixels suffice for; faces that would have been
 * enlarged from them (group-photo faces of ~40 px) fell to 0.87–0.97, hence the full decode.
 */
export async function alignedCrops(
  faces: readonly FaceCandidate[],
  detection: DetectionImage,
  decodeFull: () => Promise<RgbImage>,
): Promise<Uint8Array[]> {
  // Detection pixels per image pixel, per axis (the detection size rounds each side).
  const kx = detection.pixels.width / detection.width;
  const ky = detection.pixels.height / detection.height;
  let full: Promise<RgbImage> | undefined;
  const crops: Uint8Array[] = [];
  for (const face of faces) {
    const scaled = face.landmarks.map(([x, y]): [number, number] => [x * kx, y * ky]);
    const t = estimateSimilarity(scaled, ARCFACE_REFERENCE);
    if (detectionPixelsSuffice(kx, ky, t)) {
      crops.push(warpFace(detection.pixels, t));
    } else {
      full ??= decodeFull();
      crops.push(warpFace(await full, estimateSimilarity(face.landmarks, ARCFACE_REFERENCE)));
    }
  }
  return crops;
}

/**
 * Whether the detection-size pixels (`kx`, `ky` of them per image pixel) can stand in for the
 * image's own when warping a face by `t` (detection pixels → crop pixels): they are the image's
 * own, or a reduction of it that the warp reduces further or keeps at scale (`|t| ≤ 1`). An
 * image enlarged for detection always goes back to its own pixels: interpolating them twice
 * blurs the crop (face_1.jpg at 720 px: cosine 0.92).
 */
export function detectionPixelsSuffice(kx: number, ky: number, t: Similarity): boolean {
  if (kx === 1 && ky === 1) return true;
  return kx < 1 && ky < 1 && Math.hypot(t.a, t.b) <= 1;
}
