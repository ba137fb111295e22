// Shoutcloud upper-cases code point by code point, so a question and its answer have as many code
// points: the rule that checks a reply and splits a shared one back. A lone surrogate counts as
// one, as it does for Shoutcloud (it becomes U+FFFD); `MAX_INPUT_LENGTH` counts the same unit.

/** Length of `text` in Unicode code points. */
export function codePointLength(text: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        surrogatePairs++;
        i++;
      }
    }
  }
  return text.length - surrogatePairs;
}

/** The UTF-16 index `codePoints` code points after `from`, or -1 when `text` ends first. */
export function advanceCodePoints(text: string, from: number, codePoints: number): number {
  let at = from;
  for (let left = codePoints; left > 0; left--) {
    if (at >= text.length) return -1;
    const unit = text.charCodeAt(at);
    const next = text.charCodeAt(at + 1);
    at += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return at;
}
