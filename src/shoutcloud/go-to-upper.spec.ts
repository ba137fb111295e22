import fc from 'fast-check';
import { goToUpper } from './go-to-upper.js';

describe('goToUpper (Go strings.ToUpper semantics)', () => {
  it.each([
    ['ascii', 'hello, World 42', 'HELLO, WORLD 42'],
    ['sharp s stays (no simple mapping)', 'straße', 'STRAßE'],
    ['ligature ff stays', 'ﬀ', 'ﬀ'],
    ['n preceded by apostrophe stays', 'ŉ', 'ŉ'],
    ['Greek with ypogegrammeni takes the prosgegrammeni capital', 'ᾳᾀ', 'ᾼᾈ'],
    ['Greek final sigma', 'ς', 'Σ'],
    ['dotless i', 'ı', 'I'],
    ['long s', 'ſ', 'S'],
    ['titlecase digraph', 'ǅ', 'Ǆ'],
    ['accented Latin', 'éàü', 'ÉÀÜ'],
    ['Cyrillic', 'привет', 'ПРИВЕТ'],
    ['Deseret (astral)', '𐐨', '𐐀'],
    ['CJK unchanged', '漢字', '漢字'],
    ['combining mark unchanged', 'e\u0301', 'E\u0301'],
    ['lone surrogate becomes U+FFFD', 'a\ud800b', 'A\ufffdB'],
  ])('%s', (_name, input, expected) => {
    expect(goToUpper(input)).toBe(expected);
  });

  it('never changes the number of code points', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => [...goToUpper(text)].length === [...text].length),
    );
  });

  it('agrees with toUpperCase wherever that maps one code point to one', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii' }), (text) => goToUpper(text) === text.toUpperCase()),
    );
  });
});
