import fc from 'fast-check';
import { isCaseVariant } from './case-variant.js';
import { goToUpper } from './go-to-upper.js';

describe('isCaseVariant', () => {
  it.each([
    ['ascii upper-cased', 'hello', 'HELLO'],
    ['unchanged', 'hello', 'hello'],
    ['mixed case', 'hello', 'HeLLo'],
    ['ß kept, as Go keeps it', 'straße', 'STRAßE'],
    ['ß as its capital', 'straße', 'STRAẞE'],
    ['astral letters', '𐐨x', '𐐀X'],
    ['an accent on its own code point', 'e\u0301', 'E\u0301'],
    ['an empty text', '', ''],
  ])('accepts %s', (_name, text, answer) => {
    expect(isCaseVariant(text, answer)).toBe(true);
  });

  it.each([
    ['full case mapping', 'straße', 'STRASSE'],
    ['NFC', 'e\u0301', '\u00c9'],
    ['a shift by one', 'abc', 'CAB'],
    ['another letter', 'abc', 'ABD'],
    ['one code point short', 'abc', 'AB'],
    ['one code point more', 'abc', 'ABCD'],
    ['a dotted capital I for i', 'i', '\u0130'],
    ['an answer for an empty text', '', 'X'],
  ])('refuses %s', (_name, text, answer) => {
    expect(isCaseVariant(text, answer)).toBe(false);
  });

  it("accepts Shoutcloud's own answer to any text", () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (text) => isCaseVariant(text, goToUpper(text))));
  });

  it('refuses any answer rotated by one code point, unless the rotation changes nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', minLength: 2 }), (text) => {
        const answer = goToUpper(text);
        const rotated = answer.slice(-1) + answer.slice(0, -1);
        return isCaseVariant(text, rotated) === (goToUpper(rotated) === answer);
      }),
    );
  });
});
