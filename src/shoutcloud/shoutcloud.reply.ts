import type { AxiosResponse } from 'axios';
import { isUtf8 } from 'node:buffer';
import { parseRetryAfter } from './retry-after.js';
import { UpstreamTryError } from './shoutcloud.errors.js';

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
 * Shoutcloud's OUTPUT from its reply, or the {@link UpstreamTryError} that says why there is
 * none. A usable reply is a 200 whose body is strict UTF-8 (a lenient decoder would turn bad
 * bytes into U+FFFD capitals that are then cached) and JSON with a string `OUTPUT`. A 429 or a
 * 503 carries the `Retry-After` Shoutcloud sent.
 */
export function parseReply(response: AxiosResponse<Buffer>): string {
  const { status } = response;
  if (status === 429) throw new UpstreamTryError('status_429', 'Shoutcloud rate-limited the request', retryAfterOf(response));
  if (status >= 500) {
    const retryAfter = status === 503 ? retryAfterOf(response) : undefined;
    throw new UpstreamTryError('status_5xx', `Shoutcloud answered ${status}`, retryAfter);
  }
  if (status >= 400) throw new UpstreamTryError('rejected', `Shoutcloud answered ${status}`);
  if (status !== 200) throw new UpstreamTryError('malformed', `Shoutcloud answered ${status}`);
  const body = response.data;
  if (!isUtf8(body)) throw new UpstreamTryError('malformed', 'Shoutcloud answered a body that is not UTF-8');
  let reply: unknown;
  try {
    reply = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UpstreamTryError('malformed', 'Shoutcloud answered a body that is not JSON');
  }
  const output = (reply as { OUTPUT?: unknown } | null)?.OUTPUT;
  if (typeof output !== 'string') throw new UpstreamTryError('malformed', 'Shoutcloud answered without a string OUTPUT');
  return output;
}

function retryAfterOf(response: AxiosResponse<Buffer>): number | undefined {
  const value: unknown = response.headers['retry-after'];
  return parseRetryAfter(Array.isArray(value) ? String(value[0]) : typeof value === 'string' ? value : undefined);
}
