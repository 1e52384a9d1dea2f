import type { ImagePreprocess } from '../../models/registry.ts';
import { decodeRaw, ImageDecodeError } from '../image-decode.ts';

export { ImageDecodeError } from '../image-decode.ts';

/**
 * Decodes an encoded image (webp preview, jpeg, png, anything libvips reads) into one model
 * input: EXIF-oriented RGB, shorter side resized to `spec.resizeShorterSide` with
 * `spec.resizeKernel`, centre crop of `spec.width`×`spec.height`,
 * `(pixel * scale - mean) / std`, planar (CHW).
 * @returns `3 * spec.height * spec.width` floats.
 * @throws ImageDecodeError if the bytes are empty, not an image, or truncated.
 */
export async function preprocessImage(
  bytes: Uint8Array,
  spec: ImagePreprocess,
): Promise<Float32Array> {
  const decoded = await decodeRaw(bytes, (image) =>
    image
      // Camera JPEGs store the pixels sideways and say so in EXIF; the model wants them upright.
      .autoOrient()
      // ImageNet has no transparency; a cut-out on white looks like a product photo.
      .flatten({ background: '#ffffff' })
      // Greyscale and CMYK inputs become three sRGB channels.
      .toColourspace('srgb')
      .resize({
        width: spec.resizeShorterSide,
        height: spec.resizeShorterSide,
        // 'outside' scales until both sides reach the size: the shorter side ends at it.
        fit: 'outside',
        kernel: spec.resizeKernel,
      }),
  );
  return toPlanarTensor(decoded.data, decoded.info, spec);
}

// Centre crop and normalisation in one pass over the interleaved pixels.
function toPlanarTensor(
  pixels: Uint8Array,
  info: { width: number; height: number; channels: number },
  spec: ImagePreprocess,
): Float32Array {
  const { width: w, height: h } = spec;
  if (info.width < w || info.height < h || info.channels < 3) {
    throw new ImageDecodeError(
      `cannot decode image: got ${info.width}×${info.height}×${info.channels} after resize, need ${w}×${h}×3`,
    );
  }
  // torchvision's CenterCrop rounds the offsets the same way.
  const left = Math.round((info.width - w) / 2);
  const top = Math.round((info.height - h) / 2);
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  // Output plane c reads source channel order[c]: BGR models want blue first.
  const order = spec.channelOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const source = order[c] as number;
    const std = spec.std[c] as number;
    const mul = spec.scale / std;
    const add = -(spec.mean[c] as number) / std;
    const base = c * plane;
    for (let y = 0; y < h; y++) {
      let from = ((top + y) * info.width + left) * info.channels + source;
      const row = base + y * w;
      for (let x = 0; x < w; x++) {
        out[row + x] = (pixels[from] as number) * mul + add;
        from += info.channels;
      }
    }
  }
  return out;
}

/**
 * Concatenates per-image tensors into one `[N, ...]` batch.
 * @throws Error if the tensors differ in size.
 */
export function assembleBatch(tensors: readonly Float32Array[]): Float32Array {
  const size = tensors[0]?.length ?? 0;
  const batch = new Float32Array(tensors.length * size);
  tensors.forEach((tensor, i) => {
    if (tensor.length !== size) {
      throw new Error(`tensor ${i} has ${tensor.length} values, the first has ${size}`);
    }
    batch.set(tensor, i * size);
  });
  return batch;
}
