import { gzipSync } from 'node:zlib';
import { testAppWithUpstream } from './support/app.js';
import { send, type RawResponse } from './support/http.js';

// Bodies built to harm or to be misread, over real HTTP, on the API and on the old routes. None may
// reach Shoutcloud, none may change the process (a polluted Object.prototype would show on the next
// request: the last test of each route), and each gets the API's JSON error: the route's usual sentence, or the old one.

const LEGACY_TEXT = 'Data was not able to be parsed from request. Please try again.';
const ROUTES = ['/transform', '/', '/v1', '/v1/'];
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

interface Hostile {
  name: string;
  headers: Record<string, string>;
  body: string | Buffer;
  /** The status on /transform; the old routes answer 400 with their sentence to any of these. */
  status: 400 | 415;
  /** Words the /transform sentence must contain: it says why. */
  says: string;
}

const HOSTILE: Hostile[] = [
  { name: '__proto__ at the top', headers: { 'content-type': JSON_TYPE }, body: '{"data":"x","__proto__":{"polluted":"yes"}}', status: 400, says: '__proto__' },
  { name: '__proto__ nested', headers: { 'content-type': JSON_TYPE }, body: '{"data":"x","a":{"b":[{"__proto__":{"polluted":"yes"}}]}}', status: 400, says: '__proto__' },
  { name: '__proto__ spelled with escapes', headers: { 'content-type': JSON_TYPE }, body: '{"data":"x","\\u005f\\u005fproto__":{"polluted":"yes"}}', status: 400, says: '__proto__' },
  { name: 'constructor.prototype', headers: { 'content-type': JSON_TYPE }, body: '{"data":"x","constructor":{"prototype":{"polluted":"yes"}}}', status: 400, says: 'constructor.prototype' },
  { name: 'gzip JSON', headers: { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync('{"data":"x"}'), status: 415, says: 'Content-Encoding "gzip"' },
  { name: 'br JSON', headers: { 'content-type': JSON_TYPE, 'content-encoding': 'br' }, body: '{"data":"x"}', status: 415, says: 'Content-Encoding "br"' },
  { name: 'gzip form', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, body: gzipSync('data=x'), status: 415, says: 'Content-Encoding "gzip"' },
  { name: 'UTF-16 JSON', headers: { 'content-type': 'application/json; charset=utf-16' }, body: Buffer.from('{"data":"x"}', 'utf16le'), status: 415, says: 'charset "utf-16"' },
  { name: 'UTF-16 JSON that is also valid UTF-8', headers: { 'content-type': 'application/json; charset=UTF-16LE' }, body: '{"data":"x"}', status: 415, says: 'charset "UTF-16LE"' },
  { name: '65,536 form fields', headers: { 'content-type': FORM_TYPE }, body: 'a&'.repeat(65_535) + 'a', status: 400, says: 'more than 1000 fields' },
  { name: '18,000 data fields', headers: { 'content-type': FORM_TYPE }, body: 'data=x&'.repeat(17_999) + 'data=x', status: 400, says: 'more than 1000 fields' },
  { name: 'a repeated data field', headers: { 'content-type': FORM_TYPE }, body: 'data=a&data=b', status: 400, says: 'more than one data field' },
  { name: 'Latin-1 JSON', headers: { 'content-type': 'application/json; charset=iso-8859-1' }, body: '{"data":"x"}', status: 415, says: 'charset "iso-8859-1"' },
];

const running = testAppWithUpstream();

function expectJsonError(response: RawResponse, status: number): string {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toBe('application/json');
  const body = response.json<{ statusCode: number; error: string }>();
  expect(body.statusCode).toBe(status);
  return body.error;
}

it('keeps serving while 65,536-field forms arrive', async () => {
  const flood = 'a&'.repeat(65_535) + 'a';
  const hostile = Array.from({ length: 20 }, () => send(running.app.url, 'POST', '/v1', { headers: { 'content-type': FORM_TYPE }, body: flood }));
  const live = await send(running.app.url, 'GET', '/health/live');
  expect(live.status).toBe(200);
  for (const response of await Promise.all(hostile)) expect(expectJsonError(response, 400)).toBe(LEGACY_TEXT);
});

describe.each(ROUTES)('POST %s', (route) => {
  const legacy = route !== '/transform';

  it.each(HOSTILE.map((h) => [h.name, h] as const))('refuses %s without calling Shoutcloud', async (_name, hostile) => {
    const before = running.upstream.requests;
    const response = await send(running.app.url, 'POST', route, { headers: hostile.headers, body: hostile.body });
    if (legacy) {
      expect(expectJsonError(response, 400)).toBe(LEGACY_TEXT);
    } else {
      expect(expectJsonError(response, hostile.status)).toContain(hostile.says);
    }
    expect(running.upstream.requests).toBe(before);
  });

  it('still answers an ordinary body, so nothing above changed the process', async () => {
    const response = await send(running.app.url, 'POST', route, { headers: { 'content-type': JSON_TYPE }, body: '{"data":"abc"}' });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ data: 'CBA' });
  });
});
