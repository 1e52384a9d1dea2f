// CTC greedy decoding of the recogniser's output, as PaddleOCR's CTCLabelDecode
// (ppocr/postprocess/rec_postprocess.py): best class per time step, repeats merged, blanks
// dropped, confidence the mean probability of the kept steps.

/** Index of the CTC blank among the recogniser's classes. */
export const CTC_BLANK = 0;

/**
 * The recogniser's classes from its dictionary file (one character a line): the CTC blank at
 * index 0, then the dictionary in order, then a space, which PaddleOCR appends when
 * `use_space_char` is on, as it is for every PP-OCR model. Each line loses its line break only;
 * a character that is itself whitespace (the dictionary holds U+3000) is kept.
 */
export function recognizerClasses(dictionary: string): string[] {
  const lines = dictionary.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return ['', ...lines, ' '];
}

/** One decoded line of text. */
export interface DecodedText {
  text: string;
  /** Mean probability of the characters kept, 0..1; 0 when none was. */
  confidence: number;
}

/**
 * Decodes row `index` of a `[batch, steps, classes]` tensor of per-step class probabilities.
 * @throws RangeError if `classes` differs from the number of `labels`.
 */
export function ctcGreedyDecode(
  probs: Float32Array,
  dims: { steps: number; classes: number },
  labels: readonly string[],
  index = 0,
): DecodedText {
  const { steps, classes } = dims;
  if (classes !== labels.length) {
    throw new RangeError(`the model has ${classes} classes, the dictionary ${labels.length}`);
  }
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const base = (index * steps + t) * classes;
    let best = 0;
    let bestProb = probs[base] as number;
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c] as number;
      if (p > bestProb) {
        bestProb = p;
        best = c;
      }
    }
    // A class repeated over consecutive steps is one character; a blank between two equal
    // classes is what lets the model spell double letters ("ll").
    if (best !== CTC_BLANK && best !== previous) {
      text += labels[best] as string;
      sum += bestProb;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}
