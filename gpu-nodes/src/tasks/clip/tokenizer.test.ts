import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { clipTokenizerDir } from './testing/generate-clip-models.ts';
import {
  CLIP_CONTEXT_LENGTH,
  CLIP_EOS,
  ClipTokenizerError,
  cleanClipText,
  createClipTokenizer,
  loadClipTokenizer,
} from './tokenizer.ts';

// Ground truth, made independently of the code under test: every expected row below was
// printed by OpenAI's own tokenizer (openai/CLIP@0848ed71 clip/simple_tokenizer.py, retyped
// verbatim) under Python 3.11 with the `regex` module, reading merges.txt from
// ../shared/models/clip-tokenizer and building its vocabulary the way simple_tokenizer does (it
// equals vocab.json; tokenizer.json, which production reads, was not used). ftfy is not
// installable offline, so its fix_text was stubbed with the steps cleanClipText claims to copy
// (ligatures, width, quotes, control characters, NFC), built from ftfy's chardata.py tables.
// The same harness agreed with this tokenizer on 3,000 random mixed-script strings.
const WORDS =
  "On a bright morning in 2024, the quick brown fox jumped over the lazy dog's bed, then ran towards the old café by the river.".split(
    ' ',
  );
const LONG_TEXT = Array.from({ length: 300 }, (_, i) => WORDS[i % WORDS.length]).join(' ');

const TABLE: Array<[name: string, text: string, ids: number[]]> = [
  ['documented', 'a photo of a cat', [49406, 320, 1125, 539, 320, 2368, 49407]],
  ['mixed case', 'A Photo Of A CAT', [49406, 320, 1125, 539, 320, 2368, 49407]],
  ['mixed case inside words', 'mIxEd CaSe WoRdS', [49406, 6780, 2068, 2709, 49407]],
  [
    'punctuation and contractions',
    "Hello, world! What's up? It's 5 o'clock.",
    [49406, 3306, 267, 1002, 256, 768, 568, 705, 286, 585, 568, 276, 334, 262, 6716, 269, 49407],
  ],
  [
    'all contractions',
    "we're they'll I'd you've I'm",
    [49406, 649, 982, 889, 1342, 328, 1896, 592, 1200, 328, 880, 49407],
  ],
  [
    'symbols',
    'c++ & c# <tags> @home #sunset...',
    [49406, 322, 19056, 261, 322, 258, 283, 11606, 285, 287, 1137, 258, 3424, 678, 49407],
  ],
  [
    'numbers split per digit',
    '1234567890 3.14 2024-05-01',
    [
      49406, 272, 273, 274, 275, 276, 277, 278, 279, 280, 271, 274, 269, 272, 275, 273, 271, 273,
      275, 268, 271, 276, 268, 271, 272, 49407,
    ],
  ],
  ['extra whitespace', '  extra   \t whitespace\n\nhere  ', [49406, 4231, 4699, 2138, 763, 49407]],
  [
    'no-break and zero-width spaces',
    'tab\tnbsp\u00a0zero\u200bwidth',
    [49406, 14724, 6459, 4393, 5848, 9844, 23571, 49407],
  ],
  ['empty', '', [49406, 49407]],
  ['only whitespace', ' \n\t ', [49406, 49407]],
  [
    'accents (NFC)',
    'café naïve Ångström',
    [49406, 15304, 1097, 35689, 563, 23176, 10352, 807, 7255, 332, 49407],
  ],
  [
    'accents (NFD, composed first)',
    'cafe\u0301 nai\u0308ve A\u030angstro\u0308m',
    [49406, 15304, 1097, 35689, 563, 23176, 10352, 807, 7255, 332, 49407],
  ],
  ['German and Turkish', 'Straße İstanbul', [49406, 1894, 127, 253, 324, 328, 16384, 11231, 49407]],
  [
    'Greek final sigma',
    'ΟΔΟΣ ΣΟΦΟΣ',
    [
      49406, 138, 123, 138, 112, 138, 123, 139, 480, 139, 225, 138, 123, 139, 228, 138, 123, 139,
      480, 49407,
    ],
  ],
  [
    'Cyrillic',
    'Привет, мир',
    [49406, 26302, 16370, 29503, 110, 22176, 141, 480, 267, 38018, 16701, 141, 478, 49407],
  ],
  [
    'Japanese',
    '東京タワーの夜景',
    [49406, 48338, 21078, 105, 34941, 2429, 107, 13457, 21575, 23170, 250, 48132, 363, 49407],
  ],
  [
    'Chinese',
    '猫的照片',
    [49406, 163, 234, 104, 163, 248, 226, 163, 227, 100, 163, 231, 485, 49407],
  ],
  [
    'Korean',
    '사진 속 고양이',
    [49406, 31061, 105, 38890, 15115, 491, 36216, 254, 31625, 239, 34746, 49407],
  ],
  ['emoji', '🐱🏖\ufe0f', [49406, 35710, 1109, 28877, 49407]],
  [
    'emoji in a sentence',
    'a cat 🐱 on the beach 🏖\ufe0f!!',
    [49406, 320, 2368, 22979, 525, 518, 2117, 1109, 244, 1392, 748, 49407],
  ],
  ['emoji with skin tone, no spaces', 'emoji👍🏽thumbs', [49406, 16327, 43722, 17599, 49407]],
  ['curly quotes (ftfy)', 'don’t “quote” me', [49406, 847, 713, 257, 4020, 257, 614, 49407]],
  ['full-width forms (ftfy)', 'ｃａｔ\u3000ＰＨＯＴＯ', [49406, 2368, 1125, 49407]],
  ['ligature (ftfy)', 'ﬁne ﬂowers', [49406, 3797, 4023, 49407]],
  [
    '300 words truncated to 77',
    LONG_TEXT,
    [
      49406, 525, 320, 4852, 1119, 530, 273, 271, 273, 275, 267, 518, 3712, 2866, 3240, 16901, 962,
      518, 10753, 1929, 568, 2722, 267, 1594, 4031, 4447, 518, 896, 15304, 638, 518, 2473, 269, 525,
      320, 4852, 1119, 530, 273, 271, 273, 275, 267, 518, 3712, 2866, 3240, 16901, 962, 518, 10753,
      1929, 568, 2722, 267, 1594, 4031, 4447, 518, 896, 15304, 638, 518, 2473, 269, 525, 320, 4852,
      1119, 530, 273, 271, 273, 275, 267, 518, 49407,
    ],
  ],
];

const dir = clipTokenizerDir();
const tokenizer = dir ? await loadClipTokenizer(join(dir, 'tokenizer.json')) : undefined;

describe.skipIf(!tokenizer)(
  tokenizer
    ? 'CLIP tokenizer'
    : 'CLIP tokenizer (skipped: no clip-tokenizer folder in AEX_MODEL_DIR)',
  () => {
    const encode = (text: string) => {
      if (!tokenizer) throw new Error('unreachable: suite is skipped');
      return tokenizer.encode(text);
    };

    test.each(TABLE)('%s: matches OpenAI CLIP', (_name, text, ids) => {
      const padded = new Int32Array(CLIP_CONTEXT_LENGTH);
      padded.set(ids);
      expect([...encode(text)]).toEqual([...padded]);
    });

    test('a long text keeps the first 76 tokens and ends with eos, no padding', () => {
      const ids = encode(LONG_TEXT);
      expect(ids).toHaveLength(77);
      expect(ids[76]).toBe(CLIP_EOS);
      expect(ids.indexOf(0)).toBe(-1);
      // The text alone has far more tokens than fit.
      expect(encode(WORDS.join(' ')).indexOf(CLIP_EOS)).toBeGreaterThan(20);
    });

    test('a batch is the rows of single encodes, in order', () => {
      if (!tokenizer) throw new Error('unreachable: suite is skipped');
      const texts = ['a photo of a cat', '', 'café 🐱'];
      const batch = tokenizer.encodeBatch(texts);
      expect(batch).toHaveLength(3 * 77);
      texts.forEach((text, i) => {
        expect([...batch.subarray(i * 77, (i + 1) * 77)]).toEqual([...encode(text)]);
      });
    });
  },
);

describe('cleanClipText (the ftfy steps OpenAI runs first)', () => {
  test.each([
    ['don’t ‘x’', "don't 'x'"],
    ['“quoted”', '"quoted"'],
    ['ｃａｔ\u3000１２３', 'cat 123'],
    ['ﬁne ﬂow ĳ', 'fine flow ij'],
    ['a\u0000b\ufeffc\u{e0067}d', 'abcd'],
    ['plain text, café 🐱', 'plain text, café 🐱'],
  ])('%j → %j', (input, output) => {
    expect(cleanClipText(input)).toBe(output);
  });
});

describe('createClipTokenizer', () => {
  test('refuses a tokenizer.json that is not a CLIP BPE', () => {
    expect(() => createClipTokenizer({ model: { type: 'WordPiece' } })).toThrow(ClipTokenizerError);
    expect(() => createClipTokenizer({})).toThrow(/not a CLIP BPE tokenizer/);
  });

  test('a missing file is a clear error', async () => {
    const err = await loadClipTokenizer('/nonexistent/tokenizer.json').catch((e) => e);
    expect(err).toBeInstanceOf(ClipTokenizerError);
    expect(err.message).toContain('/nonexistent/tokenizer.json');
  });
});
