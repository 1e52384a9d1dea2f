import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';

// OpenAI CLIP's text tokenizer. The BPE itself (NFC, whitespace clean-up, lower case, CLIP's
// pre-tokenizer regex, byte-level BPE with `</w>`, <|startoftext|> … <|endoftext|>) is the
// Hugging Face tokenizer.json run by @huggingface/tokenizers: it reproduces OpenAI's
// simple_tokenizer.py id for id on the table in tokenizer.test.ts, whose expected ids come from
// OpenAI's own Python code, not from this module. What tokenizer.json lacks is the ftfy clean-up
// OpenAI runs first (`basic_clean`); `cleanClipText` adds the parts of it that change ids of
// text people type.

/** Tokens per text: CLIP's context length. */
export const CLIP_CONTEXT_LENGTH = 77;
/** `<|startoftext|>` */
export const CLIP_BOS = 49406;
/** `<|endoftext|>`: the text encoder pools the features at the first (highest) id. */
export const CLIP_EOS = 49407;
/**
 * Padding after `<|endoftext|>`, as OpenAI's `clip.tokenize` pads. Immich pads with 49407
 * instead; both give the same embedding, because the encoder is causal and pools at the first
 * 49407 (argmax), so nothing after it is read.
 */
export const CLIP_PAD = 0;

/** Turns texts into CLIP's int32 token ids. */
export interface ClipTokenizer {
  /** One text as 77 ids: bos, the text's tokens, eos, then padding; long texts keep eos last. */
  encode(text: string): Int32Array;
  /** `texts` as one row-major `[texts.length, 77]` batch. */
  encodeBatch(texts: readonly string[]): Int32Array;
}

/** A tokenizer.json that is not OpenAI CLIP's vocabulary. */
export class ClipTokenizerError extends Error {
  override name = 'ClipTokenizerError';
}

/**
 * Loads the CLIP tokenizer from a Hugging Face `tokenizer.json` (the registry's tokenizer
 * file of `clip-vit-b32-openai-textual`).
 * @throws ClipTokenizerError if the file is not a CLIP BPE vocabulary.
 */
export async function loadClipTokenizer(path: string): Promise<ClipTokenizer> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ClipTokenizerError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return createClipTokenizer(json, path);
}

/**
 * A CLIP tokenizer over a parsed `tokenizer.json`.
 * @throws ClipTokenizerError if it is not a CLIP BPE vocabulary.
 */
export function createClipTokenizer(
  tokenizerJson: unknown,
  source = 'tokenizer.json',
): ClipTokenizer {
  const model = (tokenizerJson as { model?: { type?: string; end_of_word_suffix?: string } })
    ?.model;
  if (model?.type !== 'BPE' || model.end_of_word_suffix !== '</w>') {
    throw new ClipTokenizerError(`${source} is not a CLIP BPE tokenizer (model ${model?.type})`);
  }
  // The config only matters for decoding; CLIP's tokenizer_config.json sets nothing encode uses.
  const tokenizer = new Tokenizer(tokenizerJson as object, {});
  const bos = tokenizer.token_to_id('<|startoftext|>');
  const eos = tokenizer.token_to_id('<|endoftext|>');
  if (bos !== CLIP_BOS || eos !== CLIP_EOS) {
    throw new ClipTokenizerError(
      `${source} has <|startoftext|>=${bos} and <|endoftext|>=${eos}, expected ${CLIP_BOS} and ${CLIP_EOS}`,
    );
  }

  const encodeInto = (text: string, out: Int32Array, offset: number): void => {
    // add_special_tokens: the post-processor wraps the tokens in bos … eos.
    const ids = tokenizer.encode(cleanClipText(text)).ids;
    const n = Math.min(ids.length, CLIP_CONTEXT_LENGTH);
    for (let i = 0; i < n; i++) out[offset + i] = ids[i] as number;
    // clip.tokenize(truncate=True): keep the first 77 and overwrite the last with eos.
    if (ids.length > CLIP_CONTEXT_LENGTH) out[offset + CLIP_CONTEXT_LENGTH - 1] = CLIP_EOS;
    // The rest stays CLIP_PAD (0), as a new Int32Array starts.
  };

  return {
    encode(text) {
      const out = new Int32Array(CLIP_CONTEXT_LENGTH);
      encodeInto(text, out, 0);
      return out;
    },
    encodeBatch(texts) {
      const out = new Int32Array(texts.length * CLIP_CONTEXT_LENGTH);
      for (const [i, text] of texts.entries()) encodeInto(text, out, i * CLIP_CONTEXT_LENGTH);
      return out;
    },
  };
}

// ftfy.fix_text, which OpenAI's basic_clean runs before tokenising, does more than NFC (which
// tokenizer.json does): the steps below are the ones that change well-formed typed text (ftfy's
// chardata.py tables). Its mojibake repair and HTML unescaping are not reproduced: search
// queries are typed, not scraped, and those need ftfy's full tables.
const LIGATURES: Record<string, string> = {
  Ĳ: 'IJ',
  ĳ: 'ij',
  ﬀ: 'ff',
  ﬁ: 'fi',
  ﬂ: 'fl',
  ﬃ: 'ffi',
  ﬄ: 'ffl',
  ﬅ: 'ſt',
  ﬆ: 'st',
};
const LIGATURE_RE = /[Ĳĳﬀ-ﬆ]/g;
// Full-width and half-width forms (U+FF01–U+FFEF) become their NFKC form, the ideographic space
// a space: a Japanese input method types "ｃａｔ" for "cat".
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
// Phones type curly quotes: "don’t" must split like "don't" ('t is a token of its own).
const SINGLE_QUOTE_RE = /[\u2018-\u201b]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;
// ftfy's remove_control_chars: C0 controls other than whitespace, deprecated format
// characters, the BOM, interlinear annotation, musical formatting and tag characters.
const CONTROL_RE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc\u{1d173}-\u{1d17a}\u{e0000}-\u{e007f}]/gu;

/**
 * The parts of ftfy.fix_text that OpenAI CLIP applies before tokenising and tokenizer.json
 * does not: Latin ligatures split, full-width forms narrowed, curly quotes straightened,
 * control characters removed.
 */
export function cleanClipText(text: string): string {
  return text
    .replace(LIGATURE_RE, (c) => LIGATURES[c] ?? c)
    .replace(WIDTH_RE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')))
    .replace(SINGLE_QUOTE_RE, "'")
    .replace(DOUBLE_QUOTE_RE, '"')
    .replace(CONTROL_RE, '');
}
