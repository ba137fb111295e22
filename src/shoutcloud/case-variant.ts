import { goToUpper, simpleLower, simpleUpper } from './go-to-upper.js';

/** True when two code points are the same letter in any case (or the same code point). */
function sameLetter(a: number, b: number): boolean {
  return a === b || simpleUpper(a) === simpleUpper(b) || simpleLower(a) === simpleLower(b);
}

/**
 * True when `answer` is `text` with the case of some code points changed, code point by code
 * point: the only answer Shoutcloud's rule can give. Anything else (another text's characters,
 * a shift by one, a full case mapping that turns `ß` into `SS`, a normalization that joins a
 * letter and its accent) is not the answer to this text, whatever its length.
 */
export function isCaseVariant(text: string, answer: string): boolean {
  if (answer === goToUpper(text)) return true;
  let at = 0;
  let answerAt = 0;
  while (at < text.length && answerAt < answer.length) {
    const a = text.codePointAt(at)!;
    const b = answer.codePointAt(answerAt)!;
    if (!sameLetter(a, b)) return false;
    at += a > 0xffff ? 2 : 1;
    answerAt += b > 0xffff ? 2 : 1;
  }
  return at === text.length && answerAt === answer.length;
}
