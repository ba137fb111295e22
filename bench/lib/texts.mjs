// The inputs of the bench's scenarios and of the profiles, so both measure the same texts.

/** `unit` repeated to exactly `length` code points (possibly ending inside a grapheme cluster). */
export function tenThousand(unit, length = 10_000) {
  let text = '';
  let codePoints = 0;
  for (const ch of unit.repeat(Math.ceil(length / [...unit].length) + 1)) {
    if (codePoints === length) break;
    text += ch;
    codePoints++;
  }
  return text;
}
export const HOT_INPUT = 'Hello, world! The quick brown fox jumps over the lazy dog.';
export const LONG_ASCII = tenThousand('The quick brown fox jumps over the lazy dog. ');
// Accents and an emoji with a skin tone: the segmenter path (no ASCII fast path), 10,000 code points.
export const LONG_UNICODE = tenThousand('Grüße aus Köln, naïve café 👋🏽 ');
// Dense in long clusters: ZWJ families and professions, flags, skin tones, combining accents,
// Hangul, Devanagari conjuncts. Mostly astral code points: about 16,500 UTF-16 units, past the
// 16,383 beyond which V8 no longer hashes a string's content (equal lengths, equal hashes).
const EMOJI_UNIT = '👨‍👩‍👧‍👦🇫🇷👍🏽🇯🇵👩🏾‍💻🇩🇪👋🏿😀🇧🇷🤷🏼‍♀️👏🏻🇰🇷🧑🏻‍🤝‍🧑🏿🇮🇳👌🏾🇨🇦🙌🏼e\u0301한국 नमस्ते ';
export const LONG_EMOJI = tenThousand(EMOJI_UNIT);
// A miss's input: an ASCII head of EMOJI_HEAD characters that makes it new, then the same unit.
export const EMOJI_HEAD = 32;
export const EMOJI_FILLER = tenThousand(EMOJI_UNIT, 10_000 - EMOJI_HEAD);
