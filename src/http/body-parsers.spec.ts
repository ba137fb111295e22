import { gzipSync } from 'node:zlib';
import { ApiError } from '../errors/api-error.js';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { MAX_FORM_FIELDS, parseFormBody, parseJsonBody } from './body-parsers.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/** The ApiError a parse throws, as status and sentence. */
function refusal(parse: () => unknown): { status: number; sentence: string } {
  try {
    parse();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.getStatus(), sentence: error.sentence };
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('parseJsonBody', () => {
  it.each([
    ['a top-level __proto__ key', '{"__proto__": {"polluted": true}, "data": "x"}'],
    ['a nested __proto__ key', '{"data": "x", "a": [{"b": {"__proto__": {"x": 1}}}]}'],
    ['an escaped __proto__ key', '{"\\u005f_proto__": {"polluted": true}, "data": "x"}'],
    ['a constructor.prototype key', '{"constructor": {"prototype": {"polluted": true}}, "data": "x"}'],
  ])('refuses %s with a 400 that says why', (_name, text) => {
    expect(refusal(() => parseJsonBody(Buffer.from(text), JSON_TYPE))).toEqual({ status: 400, sentence: expect.stringContaining('__proto__') });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['an ordinary body', '{"data": "abc"}', { data: 'abc' }],
    ['a "constructor" key without a prototype', '{"data": "x", "constructor": "y"}', { data: 'x', constructor: 'y' }],
    ['"__proto__" as a value, not a key', '{"data": "__proto__"}', { data: '__proto__' }],
    ['a scalar', '"abc"', 'abc'],
    ['null', 'null', null],
  ])('keeps %s', (_name, text, value) => {
    expect(parseJsonBody(Buffer.from(text), JSON_TYPE)).toEqual(value);
  });

  it.each([
    ['utf-8', 'application/json; charset=utf-8'],
    ['UTF-8, quoted', 'application/json; charset="UTF-8"'],
    ['utf8', 'application/json;charset=utf8'],
  ])('reads charset %s', (_name, contentType) => {
    expect(parseJsonBody(Buffer.from('{"data": "é"}'), { 'content-type': contentType })).toEqual({ data: 'é' });
  });

  it.each(['utf-16', 'iso-8859-1', 'latin1', ''])('answers 415 naming charset "%s"', (charset) => {
    const body = Buffer.from('{"data": "x"}', charset === 'utf-16' ? 'utf16le' : 'latin1');
    expect(refusal(() => parseJsonBody(body, { 'content-type': `application/json; charset=${charset}` }))).toEqual({
      status: 415,
      sentence: expect.stringContaining(`charset "${charset}"`),
    });
  });

  it.each(['gzip', 'br', 'deflate', 'GZIP', 'gzip, identity'])('answers 415 naming Content-Encoding %s', (encoding) => {
    const headers = { ...JSON_TYPE, 'content-encoding': encoding };
    expect(refusal(() => parseJsonBody(gzipSync('{"data": "x"}'), headers))).toEqual({ status: 415, sentence: expect.stringContaining(`"${encoding}"`) });
  });

  it('reads Content-Encoding identity as no encoding', () => {
    expect(parseJsonBody(Buffer.from('{"data": "x"}'), { ...JSON_TYPE, 'content-encoding': 'identity' })).toEqual({ data: 'x' });
  });

  it.each([
    ['empty', Buffer.alloc(0), 'empty'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'UTF-8'],
    ['not JSON', Buffer.from('{"data": '), 'JSON'],
  ])('keeps its 400s: %s', (_name, body, word) => {
    expect(refusal(() => parseJsonBody(body, JSON_TYPE))).toEqual({ status: 400, sentence: expect.stringContaining(word) });
  });
});

describe('parseFormBody', () => {
  const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };

  it('reads fields, keeping the first value of a repeated field other than data', () => {
    expect({ ...parseFormBody(Buffer.from('data=a+b%C3%A9&x=1&x=2'), FORM_TYPE) }).toEqual({ data: 'a bé', x: '1' });
  });

  it.each([
    ['data twice', 'data=a&data=b', 'more than one data field'],
    ['data twice among others', 'x=1&data=a&y=2&data=', 'more than one data field'],
    ['data twice, once without a value', 'data&data=b', 'more than one data field'],
    ['1,001 fields', 'data=x&' + 'a=1&'.repeat(999) + 'b=2', `more than ${MAX_FORM_FIELDS} fields`],
    ['65,536 repeated fields', 'a&'.repeat(65_535) + 'a', `more than ${MAX_FORM_FIELDS} fields`],
    ['65,536 repeated data fields', 'data=x&'.repeat(65_535) + 'data=x', `more than ${MAX_FORM_FIELDS} fields`],
  ])('refuses %s with a 400 that says why', (_name, text, reason) => {
    expect(refusal(() => parseFormBody(Buffer.from(text), FORM_TYPE))).toEqual({ status: 400, sentence: expect.stringContaining(reason) });
  });

  it.each([
    ['JSON, as curl -d sends it', '{"data":"hi"}'],
    ['JSON with a space first', ' {"data": "a&b"}'],
    ['a JSON array', '["hi"]'],
  ])('answers %s with a 400 that names Content-Type: application/json', (_name, text) => {
    expect(refusal(() => parseFormBody(Buffer.from(text), FORM_TYPE))).toEqual({ status: 400, sentence: ERROR_SENTENCES.formLooksLikeJson });
  });

  it('reads a form with data whose other field happens to start with a brace', () => {
    expect({ ...parseFormBody(Buffer.from('{x}=1&data=hi'), FORM_TYPE) }).toEqual({ '{x}': '1', data: 'hi' });
  });

  it(`reads ${MAX_FORM_FIELDS} fields`, () => {
    const text = 'data=x' + '&a=1'.repeat(MAX_FORM_FIELDS - 1);
    expect(parseFormBody(Buffer.from(text), FORM_TYPE).data).toBe('x');
  });

  it('cannot be polluted through a __proto__ field', () => {
    const fields = parseFormBody(Buffer.from('__proto__=x&data=y'), FORM_TYPE);
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(fields.data).toBe('y');
  });

  it('answers 415 naming a Content-Encoding', () => {
    expect(refusal(() => parseFormBody(gzipSync('data=x'), { ...FORM_TYPE, 'content-encoding': 'gzip' }))).toEqual({
      status: 415,
      sentence: expect.stringContaining('"gzip"'),
    });
  });

  it('refuses percent-escapes that are not UTF-8', () => {
    expect(refusal(() => parseFormBody(Buffer.from('data=%FF'), FORM_TYPE)).status).toBe(400);
  });
});
