import { collectGraphemes } from 'unicode-segmenter/grapheme';

// In ASCII every character is its own grapheme cluster except CR LF, so such text can be
// reversed by code unit without asking the segmenter.
// eslint-disable-next-line no-control-regex -- the control range is the point
const SINGLE_UNIT_GRAPHEMES = /^[\0-\x0c\x0e-\x7f]*$/;

/**
 * Reverses text by user-perceived characters (the extended grapheme clusters of Unicode's text
 * segmentation annex), so a letter keeps its accents, and emoji ZWJ sequences, flags and CR LF
 * stay whole. The clusters are `Intl.Segmenter`'s (proven by the spec beside this file), found by
 * `unicode-segmenter`, which does it for a fraction of `Intl.Segmenter`'s CPU: every request
 * pays for the reversal, hits included (figures in docs/performance.md).
 * @example reverseGraphemes('e\u0301x') === 'xe\u0301'
 */
export function reverseGraphemes(text: string): string {
  if (SINGLE_UNIT_GRAPHEMES.test(text)) {
    // One byte per character, written back to front: the result is a flat string. Appending
    // characters one by one builds a rope, which the cache's Map would then flatten to hash it,
    // on every hit.
    const length = text.length;
    const bytes = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) bytes[length - 1 - i] = text.charCodeAt(i);
    return bytes.toString('latin1');
  }
  return collectGraphemes(text).reverse().join('');
}
