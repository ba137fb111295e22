import fc from 'fast-check';
import { advanceCodePoints, codePointLength } from './code-points.js';

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

describe('advanceCodePoints', () => {
  it.each([
    ['abc', 0, 2, 2],
    ['😀x', 0, 1, 2],
    ['a😀x', 1, 2, 4],
    ['ab', 0, 3, -1],
    ['\ud800x', 0, 1, 1],
  ])('%j from %i by %i code points is at %i', (text, from, codePoints, at) => {
    expect(advanceCodePoints(text, from, codePoints)).toBe(at);
  });

  it('splits any concatenation of well-formed texts back into its parts', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }).map((part) => part.toWellFormed()), { maxLength: 8 }), (parts) => {
        const whole = parts.join('');
        let at = 0;
        for (const part of parts) {
          const end = advanceCodePoints(whole, at, codePointLength(part));
          expect(whole.slice(at, end)).toBe(part);
          at = end;
        }
        expect(at).toBe(whole.length);
      }),
    );
  });
});
