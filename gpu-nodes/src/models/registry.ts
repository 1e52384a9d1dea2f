import { z } from 'zod';

// The model registry: every model a worker may run, where to download it and how to check the
// bytes (DESIGN.md, "Models"). Entries are validated when this module loads, so a typo in a
// checksum or a constant fails every test rather than a user's first download.

/** What a model is for; one worker task per value. */
export const ModelTask = z.enum([
  'tags',
  'clip-image',
  'clip-text',
  'face-detect',
  'face-embed',
  'ocr-det',
  'ocr-rec',
]);
export type ModelTask = z.infer<typeof ModelTask>;

/** One file of a model: `name` is its file name under `<AEX_MODEL_DIR>/<id>/`. */
export const ModelFile = z.object({
  name: z
    .string()
    .min(1)
    .regex(/^[\w.-]+$/, 'a plain file name, no directories'),
  /** What the file is to the loader. */
  role: z.enum(['model', 'labels', 'tokenizer']),
  /** A public HTTPS URL that serves exactly these bytes. */
  url: z.url({ protocol: /^https$/ }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256'),
  bytes: z.number().int().positive().optional(),
});
export type ModelFile = z.infer<typeof ModelFile>;

const Rgb = z.tuple([z.number(), z.number(), z.number()]);

/**
 * How an image becomes the model's input tensor: resize the shorter side to `resizeShorterSide`,
 * centre-crop `width`×`height`, then per channel `(pixel * scale - mean) / std` in `layout`.
 */
export const ImagePreprocess = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  resizeShorterSide: z.number().int().positive(),
  /** sharp's resize kernel; `linear` matches torchvision's (PIL) bilinear, `cubic` its bicubic. */
  resizeKernel: z.enum(['linear', 'cubic', 'lanczos3']),
  channelOrder: z.enum(['rgb', 'bgr']),
  layout: z.literal('nchw'),
  /** Applied to 0–255 pixel values before mean and std, e.g. 1/255. */
  scale: z.number().positive(),
  mean: Rgb,
  std: Rgb.refine((std) => std.every((s) => s > 0), 'std must be positive'),
});
export type ImagePreprocess = z.infer<typeof ImagePreprocess>;

/** The graph's input as the registry promises it; checked against the loaded session. */
export const InputSpec = z.object({
  name: z.string().min(1),
  type: z.enum(['float32', 'int32', 'int64', 'uint8']),
  /** `-1` marks the batch (or any other free) dimension. */
  shape: z.array(z.number().int().min(-1)),
});
export type InputSpec = z.infer<typeof InputSpec>;

export const ModelEntry = z
  .object({
    /** Stable name and the folder under AEX_MODEL_DIR. */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    /** Changes whenever the weights change: results are keyed by (id, version). */
    version: z.string().min(1).max(64),
    task: ModelTask,
    files: z.array(ModelFile).min(1),
    input: InputSpec,
    preprocess: ImagePreprocess.optional(),
    license: z.string().min(1),
  })
  .refine((entry) => entry.files.filter((f) => f.role === 'model').length === 1, {
    message: 'exactly one file has role "model"',
  });
export type ModelEntry = z.infer<typeof ModelEntry>;

/** ImageNet statistics of RGB in 0–1, as torchvision and the ONNX model zoo use them. */
const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

const entries = [
  {
    id: 'classify-mobilenetv2',
    version: '12-int8',
    task: 'tags',
    files: [
      {
        name: 'mobilenetv2-12-int8.onnx',
        role: 'model',
        // github.com/…/raw/ (not raw.githubusercontent.com) because the zoo keeps weights in
        // Git LFS: raw.githubusercontent.com would serve the LFS pointer, not the model.
        url: 'https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx',
        sha256: 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f',
        bytes: 3_655_033,
      },
      {
        // Index-aligned with the 1000 logits.
        name: 'imagenet-simple-labels.json',
        role: 'labels',
        url: 'https://raw.githubusercontent.com/anishathalye/imagenet-simple-labels/master/imagenet-simple-labels.json',
        sha256: '987705581d9446328498f950454a1cc7d8dfc578a8243d8bfdcd2588a6905aae',
        bytes: 14_209,
      },
    ],
    input: { name: 'input', type: 'float32', shape: [-1, 3, 224, 224] },
    // The standard ImageNet evaluation transform the zoo's classifiers were validated with:
    // torchvision Resize(256) (bilinear) + CenterCrop(224) + mean/std. The int8 model is
    // sensitive to it: with lanczos3 the tench fixture comes out "reel" (tagger.test.ts).
    preprocess: {
      width: 224,
      height: 224,
      resizeShorterSide: 256,
      resizeKernel: 'linear',
      channelOrder: 'rgb',
      layout: 'nchw',
      scale: 1 / 255,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
    },
    license: 'Apache-2.0 (weights), public domain (labels)',
  },
] satisfies z.input<typeof ModelEntry>[];

/** Every model AEX knows, validated. */
export const MODEL_REGISTRY: readonly ModelEntry[] = Object.freeze(
  z.array(ModelEntry).parse(entries),
);

/** Thrown for an id that is not in the registry. */
export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
  constructor(readonly modelId: string) {
    super(
      `unknown model "${modelId}"; known models: ${MODEL_REGISTRY.map((m) => m.id).join(', ')}`,
    );
  }
}

/**
 * The registry entry for `id`.
 * @throws UnknownModelError listing the known ids.
 */
export function getModelEntry(id: string): ModelEntry {
  const entry = MODEL_REGISTRY.find((m) => m.id === id);
  if (!entry) throw new UnknownModelError(id);
  return entry;
}
