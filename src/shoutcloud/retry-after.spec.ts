import { parseRetryAfter } from './retry-after.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

describe('parseRetryAfter', () => {
  it.each<[string | undefined, number | undefined]>([
    ['3600', 3600],
    ['0', 0],
    [' 7 ', 7],
    ['007', 7],
    ['99999999999', 99_999_999_999],
    ['Sun, 06 Dec 2026 12:00:30 GMT', 30],
    ['Sun, 06 Dec 2026 13:00:00 GMT', 3600],
    ['Sun, 06 Dec 2026 12:00:00 GMT', 0],
    ['Sat, 05 Dec 2026 12:00:00 GMT', 0],
    ['Sunday, 06-Dec-26 12:00:10 GMT', 10],
    ['Sun Dec  6 12:00:20 2026', 20],
    [undefined, undefined],
    ['', undefined],
    ['soon', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['12.5', undefined],
    ['1e3', undefined],
    ['Sun, 32 Foo 2026 12:00:00 GMT', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it('counts a date from now by default', () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    expect(parseRetryAfter(inAMinute)).toBeGreaterThanOrEqual(59);
    expect(parseRetryAfter(inAMinute)).toBeLessThanOrEqual(60);
  });
});
