import type { AxiosResponse } from 'axios';
import { isUtf8 } from 'node:buffer';
import { parseRetryAfter } from './retry-after.js';
import { upstreamFailure } from './shoutcloud.errors.js';

/** The longest pause a `Retry-After` from Shoutcloud is obeyed for, in seconds. */
export const MAX_RETRY_AFTER_SECONDS = 300;

/** The size bound of a reply to a short question. */
const MIN_REPLY_BYTES = 1024 * 1024;

/**
 * The most bytes a usable reply to a request body of `requestBytes` can have. The reply,
 * `{"INPUT":…,"OUTPUT":…}`, holds the question's code points twice, and neither copy can take
 * more than 6 bytes for each byte the code point took in the request (`<` as `\u003c`; a
 * 2-byte letter whose capital takes 3): 12 times the request, or 1 MiB if that is more.
 */
export function replyByteLimit(requestBytes: number): number {
  return Math.max(MIN_REPLY_BYTES, 12 * requestBytes);
}

/**
 * Shoutcloud's OUTPUT from its reply, or the error (`upstreamFailure`) that says why there is
 * none. A usable reply is a 200 whose body is strict UTF-8 (a lenient decoder would turn bad
 * bytes into U+FFFD capitals that are then cached) and JSON with a string `OUTPUT`. A 429 or a
 * 503 carries the `Retry-After` Shoutcloud sent, within 1 s and {@link MAX_RETRY_AFTER_SECONDS}.
 */
export function parseReply(response: AxiosResponse<Buffer>): string {
  const { status } = response;
  if (status === 429) throw upstreamFailure('status_429', 'answered 429', retryAfterOf(response));
  if (status >= 500) {
    const retryAfter = status === 503 ? retryAfterOf(response) : undefined;
    throw upstreamFailure('status_5xx', `answered ${status}`, retryAfter);
  }
  if (status >= 400) throw upstreamFailure('rejected', `answered ${status}`);
  if (status !== 200) throw upstreamFailure('malformed', `answered ${status}`);
  const body = response.data;
  if (!isUtf8(body)) throw upstreamFailure('malformed', 'answered a body that is not UTF-8');
  let reply: unknown;
  try {
    reply = JSON.parse(body.toString('utf8'));
  } catch {
    throw upstreamFailure('malformed', 'answered a body that is not JSON');
  }
  const output = (reply as { OUTPUT?: unknown } | null)?.OUTPUT;
  if (typeof output !== 'string') throw upstreamFailure('malformed', 'answered without a string OUTPUT');
  return output;
}

function retryAfterOf(response: AxiosResponse<Buffer>): number | undefined {
  const value: unknown = response.headers['retry-after'];
  const asked = parseRetryAfter(Array.isArray(value) ? String(value[0]) : typeof value === 'string' ? value : undefined);
  return asked === undefined ? undefined : Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, asked));
}
