import type { IncomingHttpHeaders } from 'node:http';
import secureJson from 'secure-json-parse';
import { ApiError } from '../errors/api-error.js';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';

// Both parsers refuse what Fastify's defaults would let through as U+FFFD: invalid UTF-8 bytes,
// and percent-escapes that do not decode to UTF-8. Either would reach Shoutcloud as text the
// caller never sent. A body they cannot read as sent (compressed, or JSON in another charset) is
// a 415 that names why, rather than a misleading "not valid UTF-8" or a silent misreading.

/** Fastify's own JSON parser refuses these keys too (secure-json-parse's defaults, spelled out). */
const PROTOTYPE_KEYS: Readonly<secureJson.ScanOptions> = Object.freeze({ protoAction: 'error', constructorAction: 'error' });
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const UTF8_LABELS: ReadonlySet<string> = new Set(['utf-8', 'utf8']);
// Checks and decodes in one pass; `ignoreBOM: true` keeps a BOM in the text, as Buffer#toString did.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text, or a 400 when it is not valid UTF-8 (never U+FFFD in its place). */
function utf8Text(body: Buffer): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new ApiError(400, ERROR_SENTENCES.invalidUtf8);
  }
}

/** `application/json`: any JSON value; the DTO decides whether it is usable. */
export function parseJsonBody(body: Buffer, headers: IncomingHttpHeaders): unknown {
  refuseContentEncoding(headers);
  const contentType = headers['content-type'];
  // Most callers send no parameters: only a `;` can start a charset.
  const charset = contentType?.includes(';') ? contentType.match(CHARSET)?.[1] : undefined;
  if (charset !== undefined && !UTF8_LABELS.has(charset.toLowerCase())) {
    throw new ApiError(415, ERROR_SENTENCES.jsonCharset(charset));
  }
  if (body.length === 0) throw new ApiError(400, ERROR_SENTENCES.emptyBody);
  const text = utf8Text(body);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, ERROR_SENTENCES.invalidJson);
  }
  if (value !== null && typeof value === 'object' && mayHavePrototypeKey(text)) {
    try {
      secureJson.scan(value, PROTOTYPE_KEYS);
    } catch {
      throw new ApiError(400, ERROR_SENTENCES.prototypeKey);
    }
  }
  return value;
}

/**
 * Whether a JSON text could hold a `__proto__` or `constructor` key: only if it spells one, or
 * has a `\u` escape that could. Most bodies do neither and skip the walk over the parsed value
 * (secure-json-parse's own `parse` makes the same test before it scans).
 */
function mayHavePrototypeKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('\\u');
}

/** Most fields a form body may have, as body-parser's `parameterLimit`; this API reads one. */
export const MAX_FORM_FIELDS = 1000;

/**
 * `application/x-www-form-urlencoded`, as the old service took it. Linear in the body's length,
 * and refused past {@link MAX_FORM_FIELDS} fields before any is decoded. A repeated `data` field
 * is refused: keeping its first or last value would answer a question the caller did not ask.
 * Other fields are ignored by the DTO, so only their first value is kept.
 */
export function parseFormBody(body: Buffer, headers: IncomingHttpHeaders): Record<string, string> {
  refuseContentEncoding(headers);
  const text = utf8Text(body);
  const fields: Record<string, string> = Object.create(null);
  if (text === '') return fields;
  const pairs = text.split('&', MAX_FORM_FIELDS + 1);
  if (pairs.length > MAX_FORM_FIELDS) {
    throw new ApiError(400, ERROR_SENTENCES.tooManyFormFields(MAX_FORM_FIELDS));
  }
  for (const pair of pairs) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = decodeFormComponent(equals === -1 ? pair : pair.slice(0, equals));
    if (name in fields) {
      if (name === 'data') throw new ApiError(400, ERROR_SENTENCES.repeatedDataField);
      continue;
    }
    fields[name] = equals === -1 ? '' : decodeFormComponent(pair.slice(equals + 1));
  }
  // `curl -d '{"data": …}'` sends JSON labelled as a form: say that, not "data is required".
  if (!('data' in fields) && /^\s*[[{]/.test(text)) throw new ApiError(400, ERROR_SENTENCES.formLooksLikeJson);
  return fields;
}

/** Fastify does not decompress request bodies, and neither does this API. */
function refuseContentEncoding(headers: IncomingHttpHeaders): void {
  const encoding = headers['content-encoding']?.trim();
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new ApiError(415, ERROR_SENTENCES.contentEncoding(encoding));
  }
}

function decodeFormComponent(component: string): string {
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    throw new ApiError(400, ERROR_SENTENCES.formEscapeNotUtf8);
  }
}
