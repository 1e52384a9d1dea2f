import sharp from 'sharp';
import { decodeRaw, ImageDecodeError } from '../image-decode.ts';

// Decoding and the detector's input, following PaddleOCR's tools/infer/predict_det.py:
// DetResizeForTest (limit_type "max", limit_side_len 960) and NormalizeImage (ImageNet mean and
// std, scale 1/255, applied to the channels in the order cv2.imread gives them: B, G, R).

/** A decoded image: interleaved 8-bit RGB, upright. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Decodes an encoded image (webp preview, jpeg, png…) to upright RGB. Larger images are shrunk
 * to `maxSide` on their longer side: the detector sees at most 960 pixels and the recogniser
 * 48-pixel-high lines, so more only costs memory. Polygons are fractions of the image, so the
 * shrink does not show in results.
 * @throws ImageDecodeError if the bytes are empty, not an image, or truncated.
 */
export async function decodeUpright(bytes: Uint8Array, maxSide = 2048): Promise<RgbImage> {
  const decoded = await decodeRaw(bytes, (image) =>
    image
      // Polygons are promised as fractions of the upright image (shared/src/events.ts).
      .autoOrient()
      // Transparent text on nothing reads as dark on white, as a viewer shows it.
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .removeAlpha(),
  );
  const { width, height, channels } = decoded.info;
  if (channels !== 3) {
    throw new ImageDecodeError(`cannot decode image: got ${channels} channels, need 3`);
  }
  return { data: new Uint8Array(decoded.data), width, height };
}

/**
 * The detector's input size for a `width`×`height` image (`resize_image_type0`, limit "max"):
 * the longer side shrunk to at most `limitSideLen`, never enlarged, then each side rounded to a
 * multiple of 32 (at least 32), since the network downsamples five times.
 */
export function detInputSize(
  width: number,
  height: number,
  limitSideLen = 960,
): { width: number; height: number } {
  const longer = Math.max(width, height);
  const ratio = longer > limitSideLen ? limitSideLen / longer : 1;
  const to32 = (side: number) => Math.max(Math.round(Math.trunc(side * ratio) / 32) * 32, 32);
  return { width: to32(width), height: to32(height) };
}

// PaddleOCR's NormalizeImage for the detector; index 0 is applied to cv2's first channel, blue.
const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;

/**
 * The detector's `[3, height, width]` input for `image`: resized to `size` (stretched: both sides
 * were rounded separately), planar B, G, R with `(pixel / 255 − mean) / std`. The model was
 * trained on cv2's BGR images with these constants in that order, so feeding RGB would shift
 * every channel's statistics.
 *
 * `into`, when given, receives the tensor (it must hold exactly `3 · width · height` floats):
 * a batch is then written in place rather than assembled from per-image copies. A 7 MB array
 * costs its allocation (page faults, zeroing, the collections it sets off): 6–20 ms for
 * YuNet's input of the same size (faces/preprocess.ts).
 * @throws RangeError if `into` has the wrong length.
 */
export async function detInputTensor(
  image: RgbImage,
  size: { width: number; height: number },
  into?: Float32Array,
): Promise<Float32Array> {
  const { width, height } = size;
  const pixels =
    width === image.width && height === image.height
      ? image.data
      : await sharp(image.data, {
          raw: { width: image.width, height: image.height, channels: 3 },
        })
          // cv2.resize's default, bilinear; libvips also filters when shrinking, which only
          // removes aliasing the network never needed.
          .resize({ width, height, fit: 'fill', kernel: 'linear' })
          .raw()
          .toBuffer();
  const plane = width * height;
  if (into && into.length !== 3 * plane) {
    throw new RangeError(`into holds ${into.length} floats, the tensor ${3 * plane}`);
  }
  const out = into ?? new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const source = 2 - c; // planar B, G, R from interleaved R, G, B
    const mul = 1 / 255 / (DET_STD[c] as number);
    const add = -(DET_MEAN[c] as number) / (DET_STD[c] as number);
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = (pixels[i * 3 + source] as number) * mul + add;
  }
  return out;
}
