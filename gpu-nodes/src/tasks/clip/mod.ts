// The CLIP tasks' public surface: image embeddings for ingested images, text embeddings for
// search queries, both in the shared `clip-vit-b32-openai` space.
export { embeddingRows, l2Normalize } from './embedding.ts';
export {
  CLIP_VISUAL_MODEL_ID,
  type CreateClipImageTaskOptions,
  createClipImageTask,
} from './image-task.ts';
export {
  CLIP_TEXTUAL_MODEL_ID,
  type ClipTextEncoder,
  type CreateClipTextEncoderOptions,
  createClipTextEncoder,
} from './text-encoder.ts';
export {
  CLIP_BOS,
  CLIP_CONTEXT_LENGTH,
  CLIP_EOS,
  CLIP_PAD,
  type ClipTokenizer,
  ClipTokenizerError,
  cleanClipText,
  createClipTokenizer,
  loadClipTokenizer,
} from './tokenizer.ts';
