import type { DetectedFace, ModelRef } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import type { ExecutionProvider } from '../../inference/onnx-session.ts';
import { ModelUnavailableError, resolveModelFiles } from '../../models/model-files.ts';
import { getModelEntry } from '../../models/registry.ts';
import { ImageDecodeError } from '../tags/mod.ts';
import type { InferenceTask, TaskOutcome } from '../task.ts';
import { alignedCrops } from './aligned-crops.ts';
import { DETECTOR_MODEL_ID, type DetectOptions, openFaceDetector } from './detector.ts';
import { FACE_EMBEDDERS, type FaceEmbedderId, openFaceEmbedder } from './embed.ts';
import type { FaceCandidate } from './postprocess.ts';
import { type DetectionImage, decodeForDetection, decodeRgb } from './preprocess.ts';

/** The faces task: its results are keyed by the embedder; `detector` names the box model. */
export type FacesTask = InferenceTask<DetectedFace[]> & { readonly detector: ModelRef };

export interface CreateFacesTaskOptions {
  /** The directory holding `<model id>/` folders (AEX_MODEL_DIR). */
  modelDir: string;
  providers: readonly ExecutionProvider[];
  log: Logger;
  /** Default: the first of {@link FACE_EMBEDDERS} whose files are present (SFace first). */
  embedder?: FaceEmbedderId;
  /**
   * Faces YuNet scores below this are dropped; default 0.7. With the default detection size
   * every face in the fixtures scores ≥ 0.81 (a half-hidden one in face_1.jpg; the rest ≥ 0.87)
   * and the best non-face in cat.jpg, rose.jpg and the tench 0.53. Over the 95 exif-samples
   * photos, the 0.6–0.7 band held four objects (a cup, a hand, a dog, the back of a head) and
   * one face of 22 px in a painting; above 0.7 the one false face is a jack-o'-lantern.
   */
  minScore?: number;
  /**
   * Faces whose box is narrower or shorter than this many preview pixels are dropped; default
   * 20. Measured with MobileFaceNet on face_2.jpg and face_13.jpg shrunk until their faces
   * measure n px, as cosine to the full-size face: 16 px 0.19–0.48, 20 px 0.32–0.63, 24 px
   * 0.57–0.78, 32 px 0.72–0.91, 40 px ≥ 0.85. Different people there reach 0.26, so 20 px is the
   * smallest size at which a face stays nearer itself than any two people are to each other.
   */
  minFaceSize?: number;
  /**
   * Boxes overlapping a better one by more IoU than this are dropped; default 0.3, OpenCV's.
   * In face_1.jpg the 403 candidates above the score collapse to the same 52 faces for any value
   * from 0.1 to 0.6; neighbouring faces overlap by at most 0.05.
   */
  nmsIou?: number;
  /** At most this many faces per image, best score first; default 100. */
  maxFaces?: number;
  /**
   * The longer side YuNet sees; default 960. On a 1440 px preview holding 208 faces of 20–28
   * px, 960 finds each of them (as detecting at full size does, at ~1.4× the time) where 640
   * misses 10 and adds 22 misplaced boxes: 20 preview px must be ≥ 13 detector px.
   */
  detectSize?: number;
  intraOpThreads?: number;
}

const DEFAULTS = { minScore: 0.7, minFaceSize: 20, nmsIou: 0.3, maxFaces: 100, detectSize: 960 };

/**
 * Loads YuNet and a face embedder and returns the faces task: per image, faces with a box and
 * five landmarks (fractions of the upright preview), YuNet's score and an L2-normalised
 * embedding of the face aligned to 112×112 by its landmarks.
 * @throws RangeError for an option out of range, before touching the disk.
 * @throws ModelUnavailableError if the detector or the embedder is missing or altered.
 * @throws InferenceError if no provider opens a model or a graph is not the promised one.
 */
export async function createFacesTask(options: CreateFacesTaskOptions): Promise<FacesTask> {
  const detect = detectOptions(options);
  const log = options.log;
  const embedderId = options.embedder ?? (await firstPresentEmbedder(options.modelDir));
  if (getModelEntry(embedderId).testOnly) {
    log.warn({ model: embedderId }, 'face embedder is for tests only; production uses SFace');
  }
  const common = {
    modelDir: options.modelDir,
    providers: options.providers,
    log,
    intraOpThreads: options.intraOpThreads,
  };
  const detector = await openFaceDetector(common);
  let embedder: Awaited<ReturnType<typeof openFaceEmbedder>>;
  try {
    embedder = await openFaceEmbedder({ ...common, id: embedderId });
  } catch (err) {
    await detector.close();
    throw err;
  }
  const detectorEntry = getModelEntry(DETECTOR_MODEL_ID);

  async function facesOf(bytes: Uint8Array, image: DetectionImage): Promise<UnembeddedFaces> {
    const candidates = await detector.detect(image.pixels, detect, image);
    const crops = await alignedCrops(candidates, image, () => decodeRgb(bytes));
    return { faces: candidates.map((face) => toFractions(face, image)), crops };
  }

  return {
    name: 'faces',
    model: embedder.model,
    detector: { id: detectorEntry.id, version: detectorEntry.version },
    provider: detector.session.provider,
    // Images are detected one after another (YuNet takes one image of its own size per run),
    // then the faces of all of them are embedded together, in as few runs as the embedder
    // allows. Measured on the CPU provider over previews of 1–4 faces, CPU per image: 26.8 ms
    // one face a run, 22.7 with each image's faces in runs of their own, 22.6 with the four
    // images' together. The grouping is for GPUs, where fewer runs may matter more (unmeasured).
    maxBatch: 4,
    async run(images) {
      const decoded = await Promise.allSettled(
        images.map((bytes) => decodeForDetection(bytes, detect.detectSize)),
      );
      const found: Array<UnembeddedFaces | { error: string }> = [];
      for (const [i, item] of decoded.entries()) {
        // Alignment may decode the image again at full size, so decode errors can come later too.
        try {
          if (item.status === 'rejected') throw item.reason;
          found.push(await facesOf(images[i] as Uint8Array, item.value));
        } catch (err) {
          // An undecodable image is an expected outcome; anything else is a bug.
          if (!(err instanceof ImageDecodeError)) throw err;
          found.push({ error: err.message });
        }
      }
      const embeddings = await embedder.embedMany(
        found.flatMap((image) => ('crops' in image ? image.crops : [])),
      );
      let next = 0;
      return found.map((image): TaskOutcome<DetectedFace[]> => {
        if (!('faces' in image)) return { ok: false, error: image.error };
        const result = image.faces.map((face) => ({
          ...face,
          embedding: embeddings[next++] as number[],
        }));
        return { ok: true, result };
      });
    },
    async close() {
      await Promise.all([detector.close(), embedder.close()]);
    },
  };
}

/** An image's faces before embedding, and their aligned crops, in the same order. */
interface UnembeddedFaces {
  faces: Array<Omit<DetectedFace, 'embedding'>>;
  crops: Uint8Array[];
}

function detectOptions(options: CreateFacesTaskOptions): DetectOptions {
  const o = {
    minScore: options.minScore ?? DEFAULTS.minScore,
    minFaceSize: options.minFaceSize ?? DEFAULTS.minFaceSize,
    nmsIou: options.nmsIou ?? DEFAULTS.nmsIou,
    maxFaces: options.maxFaces ?? DEFAULTS.maxFaces,
    detectSize: options.detectSize ?? DEFAULTS.detectSize,
  };
  const check = (ok: boolean, what: string, value: number) => {
    if (!ok) throw new RangeError(`${what}, got ${value}`);
  };
  check(o.minScore >= 0 && o.minScore <= 1, 'minScore must be in [0, 1]', o.minScore);
  check(o.minFaceSize >= 0, 'minFaceSize must be ≥ 0', o.minFaceSize);
  check(o.nmsIou >= 0 && o.nmsIou <= 1, 'nmsIou must be in [0, 1]', o.nmsIou);
  // The event carries at most 1000 faces (shared/src/events.ts).
  check(
    Number.isInteger(o.maxFaces) && o.maxFaces >= 1 && o.maxFaces <= 1000,
    'maxFaces must be an integer in 1..1000',
    o.maxFaces,
  );
  check(
    Number.isInteger(o.detectSize) && o.detectSize >= 32,
    'detectSize must be an integer ≥ 32',
    o.detectSize,
  );
  return o;
}

// SFace is the production embedder; MobileFaceNet is what tests and CI have. Both are tried in
// that order; with neither present, the error names SFace, the one a user should pull.
async function firstPresentEmbedder(modelDir: string): Promise<FaceEmbedderId> {
  const problems: string[] = [];
  for (const id of FACE_EMBEDDERS) {
    try {
      await resolveModelFiles(getModelEntry(id), modelDir);
      return id;
    } catch (err) {
      if (!(err instanceof ModelUnavailableError)) throw err;
      problems.push(...err.problems.map((p) => `${id}: ${p}`));
    }
  }
  throw new ModelUnavailableError(FACE_EMBEDDERS[0], modelDir, problems);
}

// Boxes are clipped to the image (a face cut by the edge is boxed up to the edge); landmarks
// are left where YuNet put them, which the event's Point allows to stray past the edge.
function toFractions(
  face: FaceCandidate,
  image: { width: number; height: number },
): Omit<DetectedFace, 'embedding'> {
  const fx = (x: number) => Math.min(1, Math.max(0, x / image.width));
  const fy = (y: number) => Math.min(1, Math.max(0, y / image.height));
  const x = fx(face.x);
  const y = fy(face.y);
  return {
    box: { x, y, width: fx(face.x + face.width) - x, height: fy(face.y + face.height) - y },
    landmarks: face.landmarks.map(([px, py]): [number, number] => [
      px / image.width,
      py / image.height,
    ]),
    score: face.score,
  };
}
