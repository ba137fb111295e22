import { randomInt } from 'node:crypto';
import { isCaseVariant } from './case-variant.js';

// A control character: Shoutcloud keeps it as it is, as it keeps the digits between two of them.
const MARK = '\u001e';

/** What one upstream call asks: its texts joined by a separator that none of them contains. */
export interface BatchQuestion {
  readonly question: string;
  /** Empty for a lone text. */
  readonly separator: string;
}

/**
 * Joins the texts of one call. The separator is drawn per call, so no client can write a text
 * that runs into it; a text that happens to contain it makes the draw start again.
 */
export function joinTexts(texts: readonly string[]): BatchQuestion {
  if (texts.length === 1) return { question: texts[0], separator: '' };
  for (;;) {
    const separator = `${MARK}${randomInt(2 ** 47)}${MARK}`;
    if (!texts.some((text) => text.includes(separator))) return { question: texts.join(separator), separator };
  }
}

/**
 * Each text's answer from the call's answer, in order: the part between its separators when it
 * is a case variant of that text, else `undefined`. One text's unusable answer leaves the others'
 * untouched; a lost or extra separator leaves every text without one.
 */
export function splitAnswer(texts: readonly string[], { separator }: BatchQuestion, answer: string): Array<string | undefined> {
  const parts = separator === '' ? [answer] : answer.split(separator);
  if (parts.length !== texts.length) return texts.map(() => undefined);
  return parts.map((part, index) => (isCaseVariant(texts[index], part) ? part : undefined));
}
