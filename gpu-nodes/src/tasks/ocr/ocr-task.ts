import { readFile } from 'node:fs/promises';
import type { ModelRef, RecognizedLine } from '@aex/shared';
import type { Logger } from '@aex/shared/ports/log';
import {
  type ExecutionProvider,
  InferenceError,
  type OnnxSession,
  openOnnxSession,
  type TensorOutput,
} from '../../inference/onnx-session.ts';
import { fileWithRole, verifyModelFiles } from '../../models/model-files.ts';
import { getModelEntry, type ModelEntry } from '../../models/registry.ts';
import { ImageDecodeError } from '../tags/preprocess.ts';
import type { InferenceTask, TaskOutcome } from '../task.ts';
import type { Quad } from './box-geometry.ts';
import { ctcGreedyDecode, type DecodedText, recognizerClasses } from './ctc.ts';
import {
  boxesFromProbabilityMap,
  type DbOptions,
  scaleBoxes,
  sortReadingOrder,
  type TextBox,
} from './det-postprocess.ts';
import { decodeUpright, detInputSize, detInputTensor, type RgbImage } from './det-preprocess.ts';
import { cropLine, lineWidth, planBatches, REC_HEIGHT, recBatchTensor } from './rec-preprocess.ts';

/** Registry ids of the text detector and the recogniser. */
export const OCR_DETECTOR_ID = 'ocr-ppocrv4-det';
export const OCR_RECOGNIZER_ID = 'ocr-ppocrv4-rec';

/** Reads text in images; `model` is the recogniser, `detector` the model that found the lines. */
export type OcrTask = InferenceTask<RecognizedLine[]> & { readonly detector: ModelRef };

export interface CreateOcrTaskOptions {
  /** The directory holding `<model id>/` folders (AEX_MODEL_DIR); npm-shipped files are found
   * in node_modules. */
  modelDir: string;
  providers: readonly ExecutionProvider[];
  log: Logger;
  intraOpThreads?: number;
  /** Most images one `run` takes; default 8. */
  maxBatch?: number;
  /** The detector's input limit, longer side in pixels (`det_limit_side_len`); default 960. */
  detLimitSideLen?: number;
  /** DB post-processing; PaddleOCR's defaults (threshold 0.3, box 0.6), unclip ratio 2.0. */
  db?: DbOptions;
  /** Lines read with a lower mean character probability are dropped (PaddleOCR's `drop_score`);
   * default 0.5. */
  minConfidence?: number;
  /** Most lines per recogniser run (`rec_batch_num`); default 6. */
  recBatch?: number;
  /** Widest line fed to the recogniser, in pixels at height 48; default 1600 (aspect 33:1). */
  maxLineWidth?: number;
}

/**
 * Loads PP-OCRv4 (text detection + recognition): checks both models' files against the
 * registry, reads the recogniser's dictionary and opens both sessions. The dictionary is the
 * Chinese one (6,623 characters: CJK, Latin letters, digits, punctuation, plus the space
 * PaddleOCR appends). PP-OCRv4's Chinese model reads English, numbers and Chinese alike, which
 * covers the signs, captions and screenshots in AEX's photos; it often drops the space between
 * Latin words (PaddleOCR #11386), which search on words tolerates worse than on substrings.
 * @throws ModelUnavailableError if a file is missing or differs from the registry.
 * @throws InferenceError if no provider opens a model or a graph is not the promised one.
 */
export async function createOcrTask(options: CreateOcrTaskOptions): Promise<OcrTask> {
  const maxBatch = options.maxBatch ?? 8;
  const minConfidence = options.minConfidence ?? 0.5;
  const recBatch = options.recBatch ?? 6;
  const maxLineWidth = options.maxLineWidth ?? 1600;
  for (const [name, value] of Object.entries({ maxBatch, recBatch, maxLineWidth })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be ≥ 1`);
  }
  if (!(minConfidence >= 0 && minConfidence <= 1)) {
    throw new RangeError(`minConfidence must be in [0, 1], got ${minConfidence}`);
  }

  const detEntry = getModelEntry(OCR_DETECTOR_ID);
  const recEntry = getModelEntry(OCR_RECOGNIZER_ID);
  const [detFiles, recFiles] = await Promise.all([
    verifyModelFiles(detEntry, options.modelDir),
    verifyModelFiles(recEntry, options.modelDir),
  ]);
  const classes = recognizerClasses(await readFile(fileWithRole(recFiles, 'labels').path, 'utf8'));

  const open = (entry: ModelEntry, path: string) =>
    openOnnxSession({
      path,
      providers: options.providers,
      log: options.log,
      model: `${entry.id}@${entry.version}`,
      intraOpThreads: options.intraOpThreads,
    });
  const det = await open(detEntry, fileWithRole(detFiles, 'model').path);
  let rec: OnnxSession | undefined;
  try {
    rec = await open(recEntry, fileWithRole(recFiles, 'model').path);
    assertGraph(det, detEntry, 1);
    assertGraph(rec, recEntry, classes.length);
  } catch (err) {
    await Promise.all([det.close(), rec?.close()]);
    throw err;
  }
  const recSession = rec;

  async function detect(images: readonly RgbImage[]): Promise<TextBox[][]> {
    // Images whose inputs come out the same size share one run; previews of one aspect do.
    const sizes = images.map((im) => detInputSize(im.width, im.height, options.detLimitSideLen));
    const groups = new Map<string, number[]>();
    sizes.forEach((size, i) => {
      const key = `${size.width}x${size.height}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const boxes: TextBox[][] = [];
    for (const indices of groups.values()) {
      const size = sizes[indices[0] as number] as { width: number; height: number };
      const length = 3 * size.width * size.height;
      const input = new Float32Array(indices.length * length);
      await Promise.all(
        indices.map((i, n) =>
          detInputTensor(images[i] as RgbImage, size, input.subarray(n * length, (n + 1) * length)),
        ),
      );
      const out = await det.run({
        [detEntry.input.name]: {
          type: 'float32',
          data: input,
          dims: [indices.length, 3, size.height, size.width],
        },
      });
      const map = float32Output(out, det.outputNames[0], detEntry.id);
      // DB upsamples back to its input: one probability per input pixel.
      if (map.dims[2] !== size.height || map.dims[3] !== size.width) {
        throw new InferenceError(
          `${detEntry.id}: output dims [${map.dims}] do not match the input ${size.height}×${size.width}`,
        );
      }
      const plane = size.width * size.height;
      indices.forEach((imageIndex, n) => {
        const found = boxesFromProbabilityMap(
          map.data.subarray(n * plane, (n + 1) * plane),
          size.width,
          size.height,
          options.db,
        );
        boxes[imageIndex] = sortReadingOrder(
          scaleBoxes(found, size, images[imageIndex] as RgbImage),
        );
      });
    }
    return boxes;
  }

  // Lines are cut out one batch at a time: a page of text can hold hundreds of lines, and
  // each cut-out is up to 1 MB of floats.
  async function recognize(lines: ReadonlyArray<{ image: RgbImage; quad: Quad; width: number }>) {
    const read: DecodedText[] = [];
    for (const batch of planBatches(
      lines.map((l) => l.width),
      recBatch,
    )) {
      const crops = batch.map((i) => {
        const line = lines[i] as (typeof lines)[number];
        return cropLine(line.image, line.quad, maxLineWidth);
      });
      const { data, width } = recBatchTensor(crops);
      const out = await recSession.run({
        [recEntry.input.name]: {
          type: 'float32',
          data,
          dims: [batch.length, 3, REC_HEIGHT, width],
        },
      });
      const probs = float32Output(out, recSession.outputNames[0], recEntry.id);
      const dims = { steps: probs.dims[1] ?? 0, classes: classes.length };
      batch.forEach((lineIndex, row) => {
        read[lineIndex] = ctcGreedyDecode(probs.data, dims, classes, row);
      });
    }
    return read;
  }

  return {
    name: 'ocr',
    model: { id: recEntry.id, version: recEntry.version },
    detector: { id: detEntry.id, version: detEntry.version },
    provider: recSession.provider,
    maxBatch,
    async run(images) {
      const decoded = await Promise.allSettled(images.map((bytes) => decodeUpright(bytes)));
      // An undecodable image is an expected outcome; anything else is a bug and must surface.
      const bug = decoded.find(
        (d) => d.status === 'rejected' && !(d.reason instanceof ImageDecodeError),
      );
      if (bug?.status === 'rejected') throw bug.reason;
      const ok = decoded.flatMap((d) => (d.status === 'fulfilled' ? [d.value] : []));
      const boxes = await detect(ok);
      // Every line of every image goes through the recogniser together, so batches stay full.
      const lines = ok.flatMap((image, i) =>
        (boxes[i] ?? []).map((box) => ({
          index: i,
          image,
          quad: box.quad,
          width: lineWidth(box.quad, maxLineWidth),
        })),
      );
      const read = await recognize(lines);
      const results: RecognizedLine[][] = ok.map(() => []);
      lines.forEach((line, k) => {
        const { text, confidence } = read[k] ?? { text: '', confidence: 0 };
        if (text.trim() === '' || confidence < minConfidence) return;
        const { width, height } = line.image;
        results[line.index]?.push({
          text,
          confidence,
          polygon: line.quad.map(([x, y]): [number, number] => [x / width, y / height]),
        });
      });
      let next = 0;
      return decoded.map(
        (d): TaskOutcome<RecognizedLine[]> =>
          d.status === 'rejected'
            ? { ok: false, error: (d.reason as Error).message }
            : { ok: true, result: results[next++] ?? [] },
      );
    },
    async close() {
      await Promise.all([det.close(), recSession.close()]);
    },
  };
}

function float32Output(
  out: Record<string, TensorOutput>,
  name: string | undefined,
  model: string,
): { data: Float32Array; dims: readonly number[] } {
  const tensor = out[name as string];
  if (tensor?.type !== 'float32') {
    throw new InferenceError(`${model}: output ${name} is not float32`);
  }
  return tensor;
}

// A file that hashes right can still be paired with the wrong registry entry after an edit:
// check once that the input is the promised one and the last output dim fits (1 for the
// detector's probability map, one per dictionary class for the recogniser).
function assertGraph(session: OnnxSession, entry: ModelEntry, lastDim: number): void {
  const input = session.inputs.find((i) => i.name === entry.input.name);
  const shapeOk =
    input?.shape.length === entry.input.shape.length &&
    entry.input.shape.every((d, axis) => d === -1 || input.shape[axis] === d);
  if (!input || !shapeOk || input.type !== entry.input.type) {
    throw new InferenceError(
      `${entry.id}: the graph's inputs (${JSON.stringify(session.inputs)}) do not include ` +
        `${JSON.stringify(entry.input)} from the registry`,
    );
  }
  const output = session.outputs[0];
  const channelAxis = entry.task === 'ocr-det' ? 1 : -1;
  if (output?.type !== 'float32' || output.shape.at(channelAxis) !== lastDim) {
    throw new InferenceError(
      `${entry.id}: the graph's output ${JSON.stringify(output)} is not float32 with ${lastDim} ` +
        `${entry.task === 'ocr-det' ? 'channel' : 'classes (1 blank + dictionary + space)'}`,
    );
  }
}
