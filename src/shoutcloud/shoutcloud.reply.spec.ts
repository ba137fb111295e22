import type { AxiosResponse } from 'axios';
import fc from 'fast-check';
import { goToUpper } from './go-to-upper.js';
import { ShoutcloudError, type UpstreamFailureKind } from './shoutcloud.errors.js';
import { parseReply, replyByteLimit } from './shoutcloud.reply.js';

const response = (status: number, body: string | Buffer, headers: Record<string, string | string[]> = {}) =>
  ({ status, data: Buffer.from(body), headers, statusText: '', config: {} }) as unknown as AxiosResponse<Buffer>;

/** A body with `bytes` spliced in before its last two characters (inside OUTPUT's closing quote). */
const spliced = (json: string, ...bytes: number[]) => Buffer.concat([Buffer.from(json.slice(0, -2)), Buffer.from(bytes), Buffer.from(json.slice(-2))]);

/** What `parseReply` throws for `reply`. */
function failureOf(reply: AxiosResponse<Buffer>): unknown {
  try {
    parseReply(reply);
  } catch (error) {
    return error;
  }
  throw new Error('parseReply returned an OUTPUT');
}

describe('parseReply', () => {
  it.each<[string, AxiosResponse<Buffer>, string]>([
    ['a 200 with a string OUTPUT', response(200, '{"INPUT":"straße","OUTPUT":"STRAßE"}'), 'STRAßE'],
    ['an empty OUTPUT', response(200, '{"INPUT":"","OUTPUT":""}'), ''],
    ['escapes as Go writes them', response(200, '{"INPUT":"\\u003c","OUTPUT":"\\u003c\\u2028"}'), '<\u2028'],
    ['an astral OUTPUT', response(200, '{"INPUT":"𐐨","OUTPUT":"𐐀"}'), '𐐀'],
    ['U+FFFD sent as its bytes', response(200, '{"OUTPUT":"A\uFFFDB"}'), 'A\uFFFDB'],
  ])('%s → its OUTPUT', (_name, reply, output) => {
    expect(parseReply(reply)).toBe(output);
  });

  it.each<[string, AxiosResponse<Buffer>, UpstreamFailureKind, number | undefined]>([
    ['a lone 0xFF byte', response(200, spliced('{"OUTPUT":"A"}', 0xff)), 'malformed', undefined],
    ['a truncated 2-byte sequence', response(200, spliced('{"OUTPUT":"A"}', 0xc3)), 'malformed', undefined],
    ['an overlong encoding of "/"', response(200, spliced('{"OUTPUT":"A"}', 0xc0, 0xaf)), 'malformed', undefined],
    ['an encoded surrogate (CESU-8)', response(200, spliced('{"OUTPUT":"A"}', 0xed, 0xa0, 0x80)), 'malformed', undefined],
    ['a code point past U+10FFFF', response(200, spliced('{"OUTPUT":"A"}', 0xf4, 0x90, 0x80, 0x80)), 'malformed', undefined],
    ['Latin-1 text', response(200, Buffer.from('{"OUTPUT":"STRAßE"}', 'latin1')), 'malformed', undefined],
    ['not JSON', response(200, '<html>'), 'malformed', undefined],
    ['a UTF-8 BOM before the JSON', response(200, '\uFEFF{"OUTPUT":"A"}'), 'malformed', undefined],
    ['JSON null', response(200, 'null'), 'malformed', undefined],
    ['no OUTPUT', response(200, '{"INPUT":"x"}'), 'malformed', undefined],
    ['a non-string OUTPUT', response(200, '{"OUTPUT":42}'), 'malformed', undefined],
    ['a 204', response(204, ''), 'malformed', undefined],
    ['a redirect', response(301, ''), 'malformed', undefined],
    ['a 400', response(400, 'Bad Request'), 'rejected', undefined],
    ['a 400 with Retry-After', response(400, '', { 'retry-after': '5' }), 'rejected', undefined],
    ['a 429', response(429, ''), 'status_429', undefined],
    ['a 429 with Retry-After in seconds, within 300', response(429, '', { 'retry-after': '3600' }), 'status_429', 300],
    ['a 429 with two Retry-After headers', response(429, '', { 'retry-after': ['20', '30'] }), 'status_429', 20],
    ['a 429 with an unreadable Retry-After', response(429, '', { 'retry-after': 'later' }), 'status_429', undefined],
    ['a 429 with a past date, at least 1', response(429, '', { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }), 'status_429', 1],
    ['a 503 with Retry-After', response(503, '', { 'retry-after': '7' }), 'status_5xx', 7],
    ['a 500 (Retry-After is only read on 429 and 503)', response(500, '', { 'retry-after': '7' }), 'status_5xx', undefined],
  ])('%s → %s, pause %p', (_name, reply, kind, pauseSeconds) => {
    const error = failureOf(reply);
    expect(error).toBeInstanceOf(ShoutcloudError);
    expect((error as ShoutcloudError).failure).toMatchObject({ kind, pauseSeconds });
  });

  it('reads a date Retry-After from now', () => {
    const inFourMinutes = new Date(Date.now() + 240_000).toUTCString();
    const { failure } = failureOf(response(503, '', { 'retry-after': inFourMinutes })) as ShoutcloudError;
    expect(failure?.pauseSeconds).toBeGreaterThanOrEqual(239);
    expect(failure?.pauseSeconds).toBeLessThanOrEqual(240);
  });
});

/** JSON as Go's encoding/json writes it: also escapes <, >, & and U+2028/U+2029. */
const goJson = (value: unknown) =>
  JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

describe('replyByteLimit', () => {
  it.each([
    [0, 1024 * 1024],
    [12, 1024 * 1024],
    [87_381, 1024 * 1024],
    [87_382, 1_048_584],
    [1_048_576, 12 * 1_048_576],
  ])('a request of %i bytes may be answered with up to %i', (requestBytes, limit) => {
    expect(replyByteLimit(requestBytes)).toBe(limit);
  });

  it("holds Shoutcloud's reply to any text, escaped as Go escapes, within 12 times the request", () => {
    const worst = ['<', '&', '\u2028', '\u0001', '\ud800', 'ɐ', 'ı', '𐐨', 'ß'];
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom(...worst) })), (text) => {
        const request = Buffer.byteLength(JSON.stringify({ INPUT: text }));
        const input = text.toWellFormed();
        const reply = Buffer.byteLength(goJson({ INPUT: input, OUTPUT: goToUpper(input) }));
        expect(reply).toBeLessThanOrEqual(12 * request);
      }),
      { numRuns: 2000 },
    );
  });
});
