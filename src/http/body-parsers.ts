import { isUtf8 } from 'node:buffer';
import { ApiError } from '../errors/api-error.js';

// Both parsers refuse what Fastify's defaults would let through as U+FFFD: invalid UTF-8 bytes,
// and percent-escapes that do not decode to UTF-8. Either would reach Shoutcloud as text the
// caller never sent.

/** `application/json`: any JSON value; the DTO decides whether it is usable. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new ApiError(400, 'The request body is empty; send {"data": "<text>"}.');
  if (!isUtf8(body)) throw new ApiError(400, 'The request body is not valid UTF-8.');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'The request body is not valid JSON.');
  }
}

/**
 * `application/x-www-form-urlencoded`, as the old service took it. A repeated field becomes an
 * array, which the DTO then refuses, rather than silently keeping the first or last value.
 */
export function parseFormBody(body: Buffer): Record<string, string | string[]> {
  if (!isUtf8(body)) throw new ApiError(400, 'The request body is not valid UTF-8.');
  const fields: Record<string, string | string[]> = Object.create(null);
  const text = body.toString('utf8');
  if (text === '') return fields;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeFormComponent(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decodeFormComponent(pair.slice(equals + 1));
    const previous = fields[name];
    fields[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return fields;
}

function decodeFormComponent(component: string): string {
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    throw new ApiError(400, 'The form body has a percent-escape that is not valid UTF-8.');
  }
}
