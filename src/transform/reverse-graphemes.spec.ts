import fc from 'fast-check';
import { codePointLength } from '../shoutcloud/code-points.js';
import { reverseGraphemes } from './reverse-graphemes.js';

const intl = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const reverseByIntl = (text: string) => Array.from(intl.segment(text), ({ segment }) => segment).reverse().join('');

const range = (first: number, last: number) => fc.integer({ min: first, max: last }).map((code) => String.fromCodePoint(code));
const one = (...chars: string[]) => fc.constantFrom(...chars);

/** Code points from the classes where grapheme rules are hardest, in any order and mix. */
const hardCodePoint = fc.oneof(
  range(0x61, 0x7a), // ASCII letters
  one('\r', '\n', '\t', '\u0000', '\u0085'), // CR, LF and other controls
  range(0x0300, 0x036f), // combining diacritical marks
  range(0x1ab0, 0x1aff), // combining marks, extended
  one('\u200d', '\u200c', '\ufe0e', '\ufe0f', '\u20e3'), // ZWJ, ZWNJ, variation selectors, keycap
  range(0x1f466, 0x1f469), // boy, girl, man, woman (ZWJ family parts)
  one('❤', '🏳', '🏴', '👍', '✋', '©', '⌚', '🧑', '🤝'), // Extended_Pictographic
  range(0x1f3fb, 0x1f3ff), // emoji modifiers (skin tones)
  range(0x1f1e6, 0x1f1ff), // regional indicators
  range(0xe0020, 0xe007f), // tag characters (subdivision flags)
  range(0x1100, 0x115f), // Hangul leading jamo (L)
  range(0x1160, 0x11a7), // Hangul vowel jamo (V)
  range(0x11a8, 0x11ff), // Hangul trailing jamo (T)
  range(0xac00, 0xd7a3), // Hangul syllables (LV, LVT)
  range(0x0900, 0x097f), // Devanagari: consonants, virama, nukta, vowel signs (GB9c conjuncts)
  range(0x0980, 0x09ff), // Bengali
  range(0x0a80, 0x0aff), // Gujarati
  range(0x0d00, 0x0d7f), // Malayalam
  range(0x0e00, 0x0e7f), // Thai (spacing marks)
  range(0x0600, 0x0605), // Arabic prepended concatenation marks
  range(0x1f600, 0x1f64f), // emoticons
);
const hardText = fc.array(hardCodePoint, { maxLength: 60 }).map((chars) => chars.join(''));

describe('reverseGraphemes', () => {
  it.each([
    ['empty', '', ''],
    ['ascii', 'hello', 'olleh'],
    ['digits and punctuation', 'a1, b2!', '!2b ,1a'],
    ['CR LF stays one character', 'a\r\nb', 'b\r\na'],
    ['combining acute stays on its letter', 'e\u0301x', 'xe\u0301'],
    ['several combining marks', 'a\u0308\u0301bc', 'cba\u0308\u0301'],
    ['Hangul jamo sequence', '\u1100\u1161\u11a8!', '!\u1100\u1161\u11a8'],
    ['CJK', '漢字かな', 'なか字漢'],
    ['astral plane letters', '𝒜𝒷', '𝒷𝒜'],
    ['ZWJ family emoji', 'a👨‍👩‍👧‍👦b', 'b👨‍👩‍👧‍👦a'],
    ['skin tone modifier', 'x👍🏽y', 'y👍🏽x'],
    ['regional-indicator flags', '🇫🇷🇩🇪', '🇩🇪🇫🇷'],
    ['tag sequence flag (Scotland)', '1🏴󠁧󠁢󠁳󠁣󠁴󠁿2', '2🏴󠁧󠁢󠁳󠁣󠁴󠁿1'],
    ['keycap', '#️⃣9', '9#️⃣'],
    ['Devanagari conjunct stays whole (Unicode 15.1 GB9c)', 'नमस्ते', 'स्तेमन'],
    ['right-to-left Hebrew', 'שלום', 'םולש'],
    ['emoji presentation selector', '❤️a', 'a❤️'],
    ["the README's example", 'Hello, wörld! 👋', '👋 !dlröw ,olleH'],
    ["the README's batch example", 'e\u0301x', 'xe\u0301'],
  ])('%s', (_name, input, expected) => {
    expect(reverseGraphemes(input)).toBe(expected);
  });

  it('finds the same clusters as Intl.Segmenter in text made of the hard cases', () => {
    fc.assert(
      fc.property(hardText, (text) => {
        expect(reverseGraphemes(text)).toBe(reverseByIntl(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the same clusters as Intl.Segmenter in any well-formed text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), (graphemes, any) => {
        const text = graphemes + any.toWellFormed();
        expect(reverseGraphemes(text)).toBe(reverseByIntl(text));
      }),
      { numRuns: 200 },
    );
  });

  // Clusters that cannot merge with their neighbours, whatever the order.
  const clusters = ['a', 'Z', '7', ' ', 'e\u0301', 'ñ', '漢', '한', '👨‍👩‍👧', '👍🏽', '🇫🇷', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '\r\n', 'क्ष', '𝒜'];

  it('reverses any sequence of clusters cluster by cluster, and twice is the identity', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...clusters), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const reversed = reverseGraphemes(text);
        expect(reversed).toBe([...parts].reverse().join(''));
        expect(reverseGraphemes(reversed)).toBe(text);
      }),
    );
  });

  it('keeps every code point and the code point count', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const reversed = reverseGraphemes(text);
        expect(codePointLength(reversed)).toBe(codePointLength(text));
        expect([...reversed].sort()).toEqual([...text].sort());
      }),
    );
  });

  it('reverses plain ASCII exactly like an array reverse', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ab Z09.,!\t\n') }), (text) => {
        expect(reverseGraphemes(text)).toBe([...text].reverse().join(''));
      }),
    );
  });
});
