import type { ImagePreprocess } from '../../models/registry.ts';
import { decodeRaw, ImageDecodeError } from '../image-decode.ts';

// CLIP's image transform (OpenAI clip.load's `_transform`): resize the shorter side to 224 with
// bicubic, centre crop 224×224, RGB, then mean/std. The crop is kept as 8-bit RGB so it can
// feed either graph Immich publishes: the float one wants the normalised planar tensor, the
// newer uint8 one takes the crop as it is and normalises inside the graph.

/**
 * Decodes an encoded image and returns its CLIP crop: `spec.height × spec.width` pixels of
 * interleaved 8-bit RGB (HWC), EXIF-oriented, shorter side resized to `spec.resizeShorterSide`
 * with `spec.resizeKernel`, centre-cropped.
 * @throws ImageDecodeError if the bytes are empty, not an image, or truncated.
 */
export async function decodeClipPixels(
  bytes: Uint8Array,
  spec: ImagePreprocess,
): Promise<Uint8Array> {
  const decoded = await decodeRaw(bytes, (image) =>
    image
      .autoOrient()
      // PIL's convert("RGB"), which OpenAI's transform uses, drops alpha without compositing.
      .removeAlpha()
      .toColourspace('srgb')
      .resize({
        width: spec.resizeShorterSide,
        height: spec.resizeShorterSide,
        // 'outside' scales until both sides reach the size: the shorter side ends at it.
        fit: 'outside',
        kernel: spec.resizeKernel,
      }),
  );
  const { width, height, channels } = decoded.info;
  const { width: w, height: h } = spec;
  if (width < w || height < h || channels !== 3) {
    throw new ImageDecodeError(
      `cannot decode image: got ${width}×${height}×${channels} after resize, need ${w}×${h}×3`,
    );
  }
  // torchvision's CenterCrop rounds the offsets the same way.
  const left = Math.round((width - w) / 2);
  const top = Math.round((height - h) / 2);
  const crop = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const from = ((top + y) * width + left) * 3;
    crop.set(decoded.data.subarray(from, from + w * 3), y * w * 3);
  }
  return crop;
}

/**
 * One crop from `decodeClipPixels` as the float graph's input: planar (CHW),
 * `(pixel * scale - mean) / std` per channel, channels in `spec.channelOrder`.
 */
export function toPlanarTensor(crop: Uint8Array, spec: ImagePreprocess): Float32Array {
  const plane = spec.width * spec.height;
  const out = new Float32Array(3 * plane);
  const order = spec.channelOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const std = spec.std[c] as number;
    const mul = spec.scale / std;
    const add = -(spec.mean[c] as number) / std;
    const source = order[c] as number;
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = (crop[i * 3 + source] as number) * mul + add;
  }
  return out;
}
