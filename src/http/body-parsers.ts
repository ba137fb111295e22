import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import secureJson from 'secure-json-parse';
import { ApiError } from '../errors/api-error.js';

// Both parsers refuse what Fastify's defaults would let through as U+FFFD: invalid UTF-8 bytes,
// and percent-escapes that do not decode to UTF-8. Either would reach Shoutcloud as text the
// caller never sent. A body they cannot read as sent (compressed, or JSON in another charset) is
// a 415 that names why, rather than a misleading "not valid UTF-8" or a silent misreading.

/** Fastify's own JSON parser refuses these keys too (secure-json-parse's defaults, spelled out). */
const PROTOTYPE_KEYS: Readonly<secureJson.ScanOptions> = Object.freeze({ protoAction: 'error', constructorAction: 'error' });
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const UTF8_LABELS: ReadonlySet<string> = new Set(['utf-8', 'utf8']);

/** `application/json`: any JSON value; the DTO decides whether it is usable. */
export function parseJsonBody(body: Buffer, headers: IncomingHttpHeaders): unknown {
  refuseContentEncoding(headers);
  const contentType = headers['content-type'];
  // Most callers send no parameters: only a `;` can start a charset.
  const charset = contentType?.includes(';') ? contentType.match(CHARSET)?.[1] : undefined;
  if (charset !== undefined && !UTF8_LABELS.has(charset.toLowerCase())) {
    throw new ApiError(415, `The JSON body is declared as charset "${charset}"; this API reads JSON only as UTF-8.`);
  }
  if (body.length === 0) throw new ApiError(400, 'The request body is empty; send {"data": "<text>"}.');
  if (!isUtf8(body)) throw new ApiError(400, 'The request body is not valid UTF-8.');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'The request body is not valid JSON.');
  }
  if (value !== null && typeof value === 'object') {
    try {
      secureJson.scan(value, PROTOTYPE_KEYS);
    } catch {
      throw new ApiError(400, 'The request body has a "__proto__" or "constructor.prototype" key, which this API refuses.');
    }
  }
  return value;
}

/**
 * `application/x-www-form-urlencoded`, as the old service took it. A repeated field becomes an
 * array, which the DTO then refuses, rather than silently keeping the first or last value.
 */
export function parseFormBody(body: Buffer, headers: IncomingHttpHeaders): Record<string, string | string[]> {
  refuseContentEncoding(headers);
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

/** Fastify does not decompress request bodies, and neither does this API. */
function refuseContentEncoding(headers: IncomingHttpHeaders): void {
  const encoding = headers['content-encoding']?.trim();
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new ApiError(415, `The request body has Content-Encoding "${encoding}", which this API does not decode; send it unencoded.`);
  }
}

function decodeFormComponent(component: string): string {
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    throw new ApiError(400, 'The form body has a percent-escape that is not valid UTF-8.');
  }
}
