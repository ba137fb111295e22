// An HTTP-date always starts with its day name (RFC 9110 §5.6.7: IMF-fixdate, RFC 850 and asctime
// forms); without this check `Date.parse` would read strings such as "12.5" as dates.
const HTTP_DATE_START = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /;

/**
 * The seconds a `Retry-After` value asks to wait (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), rounded up and never negative; `undefined` for a missing or unreadable value.
 * @param now the moment a date is counted from, in ms since the epoch.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!HTTP_DATE_START.test(trimmed)) return undefined;
  // HTTP-dates are in GMT; the asctime form does not say so and would be read as local time.
  const at = Date.parse(trimmed.endsWith(' GMT') ? trimmed : `${trimmed} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
