import type { Logger } from '@aex/shared/ports/log';
import {
  type ExecutionProvider,
  InferenceError,
  type OnnxSession,
  openOnnxSession,
} from '../../inference/onnx-session.ts';
import { fileWithRole, verifyModelFiles } from '../../models/model-files.ts';
import { getModelEntry } from '../../models/registry.ts';
import {
  decodeYunet,
  type FaceCandidate,
  nonMaxSuppression,
  YUNET_STRIDES,
  type YunetOutputs,
} from './postprocess.ts';
import { detectorInput, type RgbImage } from './preprocess.ts';

/** The registry id of the face detector. */
export const DETECTOR_MODEL_ID = 'face-detect-yunet';

/** What {@link FaceDetector.detect} keeps. */
export interface DetectOptions {
  /** The longer side YuNet sees, in pixels: every image is scaled to it, up or down. */
  detectSize: number;
  /** Faces scoring below this are dropped (0..1). */
  minScore: number;
  /** Faces whose box is narrower or shorter than this many image pixels are dropped. */
  minFaceSize: number;
  /** Of two boxes overlapping by more than this IoU, the lower-scoring one is dropped. */
  nmsIou: number;
  /** At most this many faces, best score first. */
  maxFaces: number;
}

/** YuNet, loaded. */
export interface FaceDetector {
  readonly session: OnnxSession;
  /**
   * The faces in `image`, best score first, with boxes and landmarks in the pixels of an image
   * of `size` (default: `image`'s own), which `image` shows scaled: a caller that decoded
   * straight at the detection size gets faces, and `minFaceSize` applies, in the original's.
   * @throws InferenceError if the model run fails.
   */
  detect(
    image: RgbImage,
    options: DetectOptions,
    size?: { width: number; height: number },
  ): Promise<FaceCandidate[]>;
  close(): Promise<void>;
}

const OUTPUTS = ['cls', 'obj', 'bbox', 'kps'].flatMap((head) =>
  YUNET_STRIDES.map((stride) => `${head}_${stride}`),
);

/**
 * Loads YuNet after checking its files against the registry.
 * @throws ModelUnavailableError if the files are missing or differ from the registry.
 * @throws InferenceError if no provider opens it or the graph lacks YuNet's outputs.
 */
export async function openFaceDetector(options: {
  modelDir: string;
  providers: readonly ExecutionProvider[];
  log: Logger;
  intraOpThreads?: number;
}): Promise<FaceDetector> {
  const entry = getModelEntry(DETECTOR_MODEL_ID);
  const files = await verifyModelFiles(entry, options.modelDir);
  const session = await openOnnxSession({
    path: fileWithRole(files, 'model').path,
    providers: options.providers,
    log: options.log,
    model: `${entry.id}@${entry.version}`,
    intraOpThreads: options.intraOpThreads,
  });
  const missing = OUTPUTS.filter((name) => !session.outputNames.includes(name));
  if (!session.inputNames.includes(entry.input.name) || missing.length > 0) {
    await session.close();
    throw new InferenceError(
      `${entry.id}: the graph (inputs ${session.inputNames}, outputs ${session.outputNames}) ` +
        `is not YuNet: it lacks input ${entry.input.name} or outputs ${missing}`,
    );
  }

  // Inputs of finished runs, for the next images to fill (see detectorInput): as many as runs
  // were once in flight together (the worker's concurrency), and never more than MAX_SPARE.
  const spare: Float32Array[] = [];
  const MAX_SPARE = 4;

  return {
    session,
    async detect(image, opts, size = image) {
      const input = await detectorInput(image, opts.detectSize, spare.pop());
      const [, , padH, padW] = input.dims;
      let raw: Awaited<ReturnType<OnnxSession['run']>>;
      try {
        raw = await session.run({
          [entry.input.name]: { type: 'float32', data: input.data, dims: input.dims },
        });
      } finally {
        if (spare.length < MAX_SPARE) spare.push(new Float32Array(input.data.buffer));
      }
      const outputs: YunetOutputs = {};
      for (const name of OUTPUTS) {
        const tensor = raw[name];
        if (tensor?.type !== 'float32') {
          throw new InferenceError(`${entry.id}: output ${name} is missing or not float32`);
        }
        outputs[name] = tensor.data;
      }
      // From the detector's pixels back to the image's: the resize kept the aspect ratio up
      // to rounding, so each axis gets its own factor.
      const sx = size.width / input.width;
      const sy = size.height / input.height;
      const candidates = decodeYunet(outputs, padW, padH, opts.minScore).map((f) => ({
        ...f,
        x: f.x * sx,
        y: f.y * sy,
        width: f.width * sx,
        height: f.height * sy,
        landmarks: f.landmarks.map(([x, y]) => [x * sx, y * sy]) as FaceCandidate['landmarks'],
      }));
      // Size after NMS, as OpenCV thresholds then suppresses: dropping a face's best box first
      // would let a weaker duplicate of it through.
      return nonMaxSuppression(candidates, opts.nmsIou, Number.POSITIVE_INFINITY)
        .filter((f) => Math.min(f.width, f.height) >= opts.minFaceSize)
        .slice(0, opts.maxFaces);
    },
    close: () => session.close(),
  };
}
