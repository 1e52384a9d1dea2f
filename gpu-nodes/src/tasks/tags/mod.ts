// The tagging task's public surface.
export { softmax, topLabels, topLabelsPerRow } from './postprocess.ts';
export { assembleBatch, ImageDecodeError, preprocessImage } from './preprocess.ts';
export {
  type CreateTaggerOptions,
  createTagger,
  TAGGER_MODEL_ID,
  type Tagger,
  type TagResult,
} from './tagger.ts';
