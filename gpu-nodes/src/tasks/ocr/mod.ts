// The OCR task's public surface.
export { ctcGreedyDecode, type DecodedText, recognizerClasses } from './ctc.ts';
export { boxesFromProbabilityMap, type DbOptions, type TextBox } from './det-postprocess.ts';
export {
  type CreateOcrTaskOptions,
  createOcrTask,
  OCR_DETECTOR_ID,
  OCR_RECOGNIZER_ID,
  type OcrTask,
} from './ocr-task.ts';
