import fc from 'fast-check';
import { codePointLength, reverseGraphemes } from './reverse-graphemes.js';

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
  ])('%s', (_name, input, expected) => {
    expect(reverseGraphemes(input)).toBe(expected);
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

describe('codePointLength', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['😀', 1],
    ['e\u0301', 2],
    ['\ud800', 1],
    ['\ud800\ud800', 2],
  ])('%j has %i code points', (text, length) => {
    expect(codePointLength(text)).toBe(length);
  });

  it('agrees with the string iterator', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => codePointLength(text) === [...text].length));
  });
});
