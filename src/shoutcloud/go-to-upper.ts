// Go's unicode.ToUpper uses the simple case mapping of UnicodeData.txt: one code point in, one
// out. JavaScript's toUpperCase applies SpecialCasing.txt too ("ß" -> "SS"). Where JavaScript
// gives more than one code point, Go keeps the character unchanged, except the Greek letters
// with ypogegrammeni, whose simple mapping is the matching prosgegrammeni capital.
const SIMPLE_UPPER_EXCEPTIONS = new Map<number, number>([
  ...range(0x1f80, 0x1f87, 0x1f88),
  ...range(0x1f90, 0x1f97, 0x1f98),
  ...range(0x1fa0, 0x1fa7, 0x1fa8),
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
]);

function range(first: number, last: number, firstTarget: number): [number, number][] {
  return Array.from({ length: last - first + 1 }, (_, i) => [first + i, firstTarget + i]);
}

/** Go's `unicode.ToUpper`: the simple upper-case mapping of one code point. */
export function simpleUpper(codePoint: number): number {
  const exception = SIMPLE_UPPER_EXCEPTIONS.get(codePoint);
  if (exception !== undefined) return exception;
  const full = String.fromCodePoint(codePoint).toUpperCase();
  const first = full.codePointAt(0)!;
  return full.length === (first > 0xffff ? 2 : 1) ? first : codePoint;
}

/** The simple lower-case mapping of one code point, kept as it is where JavaScript gives several. */
export function simpleLower(codePoint: number): number {
  const full = String.fromCodePoint(codePoint).toLowerCase();
  const first = full.codePointAt(0)!;
  return full.length === (first > 0xffff ? 2 : 1) ? first : codePoint;
}

/**
 * Upper-cases text exactly as Shoutcloud does (Go's `strings.ToUpper`): code point by code point
 * with the simple case mapping, so `"ß"` stays `"ß"`; lone surrogates (invalid UTF-8 once
 * encoded) become U+FFFD.
 */
export function goToUpper(text: string): string {
  // Fast path: ASCII needs no table, and toUpperCase agrees with Go there.
  if (/^[\0-\x7f]*$/.test(text)) return text.toUpperCase();
  let upper = '';
  for (const char of text.toWellFormed()) upper += String.fromCodePoint(simpleUpper(char.codePointAt(0)!));
  return upper;
}
