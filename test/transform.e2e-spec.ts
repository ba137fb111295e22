import fc from 'fast-check';
import { testAppWithUpstream } from './support/app.js';
import { postForm, postJson, send, type RawResponse } from './support/http.js';

const LEGACY_TEXT = 'Data was not able to be parsed from request. Please try again.';

const running = testAppWithUpstream();

beforeEach(() => running.upstream.setFaults());

/** Every error answer: JSON, exact content type, statusCode and a sentence, no stack. */
function expectApiError(response: RawResponse, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toBe('application/json');
  const body = response.json<{ statusCode: number; error: string; stack?: unknown }>();
  expect(body.statusCode).toBe(status);
  expect(typeof body.error).toBe('string');
  expect(body.error.length).toBeGreaterThan(10);
  expect(response.text).not.toMatch(/at .*\.js:\d+|<html/i);
  return body;
}

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2)}`;

describe('POST /transform', () => {
  it('answers JSON with exactly application/json, MISS then HIT with one upstream call', async () => {
    const input = unique('hello world');
    const before = running.upstream.requests;
    const first = await postJson(running.app.url, '/transform', { data: input });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.json()).toEqual({ data: [...input].reverse().join('').toUpperCase() });

    const second = await postJson(running.app.url, '/transform', { data: input });
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.json()).toEqual(first.json());
    expect(running.upstream.requests - before).toBe(1);
  });

  it('sequential requests for new texts reach Shoutcloud one text per call', async () => {
    const inputs = Array.from({ length: 5 }, (_, i) => unique(`sequential ${i}`));
    const before = running.upstream.requests;
    for (const input of inputs) {
      const response = await postJson(running.app.url, '/transform', { data: input });
      expect(response.headers['x-cache']).toBe('MISS');
      expect(response.json()).toEqual({ data: [...input].reverse().join('').toUpperCase() });
    }
    expect(running.upstream.requests - before).toBe(inputs.length);
  });

  it('caches by the text shouted: a long non-Latin input is a HIT the second time', async () => {
    const input = unique('e\u0301👨‍👩‍👧🇫🇷한क्षि'.repeat(700));
    const first = await postJson(running.app.url, '/transform', { data: input });
    const second = await postJson(running.app.url, '/transform', { data: input });
    expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['MISS', 'HIT']);
    expect(second.text).toBe(first.text);
  });

  it('takes a form body like the old service', async () => {
    const response = await postForm(running.app.url, '/transform', 'data=caf%C3%A9+ol%C3%A9&other=ignored');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ data: 'ÉLO ÉFAC' });
  });

  it('accepts a charset parameter on the JSON content type', async () => {
    const response = await send(running.app.url, 'POST', '/transform', {
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"data":"abc"}',
    });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ data: 'CBA' });
  });

  it.each([
    ['combining accent stays on its letter', 'e\u0301x', 'XE\u0301'],
    ['ZWJ family stays whole', 'a👨‍👩‍👧‍👦b', 'B👨‍👩‍👧‍👦A'],
    ['flags stay whole and in order', 'x🇫🇷🇩🇪', '🇩🇪🇫🇷X'],
    ['CJK', '漢字abc', 'CBA字漢'],
    ['ß stays ß (Shoutcloud upper-cases per code point)', 'straße', 'EßARTS'],
    ['Greek final sigma', 'λόγος', 'ΣΟΓΌΛ'],
    ['CR LF stays one character', 'a\r\nb', 'B\r\nA'],
  ])('%s', async (_name, input, expected) => {
    const response = await postJson(running.app.url, '/transform', { data: input });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ data: expected });
  });

  it('answers "" with "" without calling Shoutcloud (X-Cache: BYPASS)', async () => {
    const before = running.upstream.requests;
    const response = await postJson(running.app.url, '/transform', { data: '' });
    expect(response.status).toBe(200);
    expect(response.headers['x-cache']).toBe('BYPASS');
    expect(response.json()).toEqual({ data: '' });
    expect(running.upstream.requests).toBe(before);
  });

  it('accepts exactly MAX_INPUT_LENGTH code points, counted as code points not UTF-16 units', async () => {
    const response = await postJson(running.app.url, '/transform', { data: '😀'.repeat(9_999) + unique('').slice(1, 2) });
    expect(response.status).toBe(200);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const echoed = await postJson(running.app.url, '/transform', { data: 'id' }, { 'x-request-id': 'client-42.a_b:c' });
    expect(echoed.headers['x-request-id']).toBe('client-42.a_b:c');
    const replaced = await postJson(running.app.url, '/transform', { data: 'id' }, { 'x-request-id': 'bad id\twith spaces' });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes one JSON log line per request, found by its id, without the user\'s text', async () => {
    const secret = unique('do-not-log-me');
    const id = `log-${Math.random().toString(36).slice(2)}`;
    await postJson(running.app.url, '/transform', { data: secret }, { 'x-request-id': id });
    // The line is written once the answer is sent: wait for the process's output to show it.
    for (let attempt = 0; attempt < 100 && !running.app.output().includes(id); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    const lines = running.app.logLines().filter((line) => line.requestId === id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', method: 'POST', route: '/transform', status: 200, cache: 'MISS' });
    expect(typeof lines[0].durationMs).toBe('number');
    expect(running.app.output()).not.toContain(secret);
    expect(running.app.output()).not.toContain([...secret].reverse().join('').toUpperCase());
  });

  it('sends security headers and no X-Powered-By; CORS is off by default', async () => {
    const response = await postJson(running.app.url, '/transform', { data: 'x' }, { origin: 'https://evil.example' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('old routes POST /, /v1, /v1/', () => {
  it.each(['/', '/v1', '/v1/'])('%s behaves like /transform', async (path) => {
    const response = await postJson(running.app.url, path, { data: 'abc' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toEqual({ data: 'CBA' });
    const form = await postForm(running.app.url, path, 'data=xyz');
    expect(form.json()).toEqual({ data: 'ZYX' });
  });

  const badBodies: Array<[string, Record<string, string>, string | undefined]> = [
    ['invalid JSON', { 'content-type': 'application/json' }, '{"data":'],
    ['data missing', { 'content-type': 'application/json' }, '{"text":"x"}'],
    ['data not a string', { 'content-type': 'application/json' }, '{"data":42}'],
    ['lone surrogate', { 'content-type': 'application/json' }, '{"data":"\\ud800"}'],
    ['too long', { 'content-type': 'application/json' }, JSON.stringify({ data: 'a'.repeat(10_001) })],
    ['unknown content type', { 'content-type': 'text/plain' }, 'data=abc'],
    ['missing content type', {}, 'data=abc'],
    ['JSON sent as a form', { 'content-type': 'application/x-www-form-urlencoded' }, '{"data":"hi"}'],
    ['empty form', { 'content-type': 'application/x-www-form-urlencoded' }, ''],
  ];
  it.each(['/', '/v1', '/v1/'].flatMap((path) => badBodies.map(([name, headers, body]) => [path, name, headers, body] as const)))(
    '%s with %s answers 400 with the old text',
    async (path, _name, headers, body) => {
      const response = await send(running.app.url, 'POST', path, { headers, body });
      expectApiError(response, 400);
      expect(response.json()).toEqual({ statusCode: 400, error: LEGACY_TEXT });
    },
  );

  it('still answers 413 for an oversized body', async () => {
    const response = await postJson(running.app.url, '/v1', { data: 'a'.repeat(200_000) });
    expect(expectApiError(response, 413).error).toBe('The request body is larger than 131072 bytes, the most this API accepts.');
  });
});

describe('errors on /transform', () => {
  const json = { 'content-type': 'application/json' };
  const cases: Array<[string, number, Record<string, string>, string | Buffer | undefined, string?]> = [
    ['body is not parseable JSON', 400, json, '{"data": "abc"'],
    ['body is JSON but not an object', 400, json, '"abc"'],
    ['body is an empty JSON document', 400, json, ''],
    ['data missing', 400, json, '{}', 'data is required'],
    ['data is a number', 400, json, '{"data": 1}', 'data must be a string'],
    ['data is null', 400, json, '{"data": null}', 'data must be a string'],
    ['data is an array', 400, json, '{"data": ["a"]}', 'data must be a string'],
    ['data is an object', 400, json, '{"data": {"a": 1}}', 'data must be a string'],
    ['data has a lone high surrogate', 400, json, '{"data": "a\\ud83d"}', 'well-formed'],
    ['data has a lone low surrogate', 400, json, '{"data": "\\ude00b"}', 'well-formed'],
    ['body is not valid UTF-8', 400, json, Buffer.from([0x7b, 0x22, 0x64, 0x61, 0x74, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ['data is one code point too long', 400, json, JSON.stringify({ data: '😀'.repeat(10_001) }), 'at most 10000'],
    ['form field repeated', 400, { 'content-type': 'application/x-www-form-urlencoded' }, 'data=a&data=b', 'more than one data field'],
    ['form escape is not UTF-8', 400, { 'content-type': 'application/x-www-form-urlencoded' }, 'data=%ED%A0%80'],
    // What `curl -d '{"data":"hi"}'` sends: JSON labelled as a form.
    ['JSON sent as a form', 400, { 'content-type': 'application/x-www-form-urlencoded' }, '{"data":"hi"}', 'Content-Type: application/json'],
    ['content type is text/plain', 415, { 'content-type': 'text/plain' }, 'data=abc'],
    ['content type is XML', 415, { 'content-type': 'application/xml' }, '<data>abc</data>'],
    ['content type is missing', 415, {}, '{"data":"abc"}'],
    ['body over MAX_BODY_BYTES', 413, json, JSON.stringify({ data: 'a'.repeat(140_000) })],
  ];

  // Every row padded to five columns: jest reads a missing last argument as a `done` callback.
  it.each(cases.map(([name, status, headers, body, detail]) => [name, status, headers, body, detail ?? ''] as const))('%s → %i', async (_name, status, headers, body, detail) => {
    const before = running.upstream.requests;
    const response = await send(running.app.url, 'POST', '/transform', { headers, body });
    const error = expectApiError(response, status);
    if (detail) expect(JSON.stringify(error)).toContain(detail);
    expect(running.upstream.requests).toBe(before);
  });

  it('the longest input in its most verbose encoding fits in the body cap', async () => {
    const escaped = `{"data":"${'\\ud83d\\ude00'.repeat(10_000)}"}`;
    expect(escaped.length).toBeLessThanOrEqual(131_072);
    const response = await send(running.app.url, 'POST', '/transform', { headers: { 'content-type': 'application/json' }, body: escaped });
    expect(response.status).toBe(200);
  });

  it('unknown route → 404, known route with another method → 405 with Allow', async () => {
    expectApiError(await send(running.app.url, 'GET', '/nope'), 404);
    expectApiError(await send(running.app.url, 'POST', '/transform/extra'), 404);
    const wrongMethod = await send(running.app.url, 'GET', '/transform');
    expectApiError(wrongMethod, 405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expectApiError(await send(running.app.url, 'DELETE', '/health'), 405);
  });

  it('never answers 5xx or non-JSON to arbitrary bodies, many at once, and keeps serving', async () => {
    const contentTypes = fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/json; charset=latin1',
      'multipart/form-data; boundary=x',
      '',
    );
    const bodies = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.json().map((text) => text),
      fc.jsonValue().map((value) => JSON.stringify({ data: value })),
      fc.string({ unit: 'binary', maxLength: 50 }).map((text) => `data=${encodeURIComponent(text.toWellFormed())}`),
      fc.uint8Array({ maxLength: 100 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(contentTypes, bodies), { minLength: 20, maxLength: 40 }), async (requests) => {
        const answers = await Promise.all(
          requests.map(([contentType, body]) =>
            send(running.app.url, 'POST', '/transform', { headers: contentType ? { 'content-type': contentType } : {}, body }),
          ),
        );
        for (const answer of answers) {
          expect(answer.status).toBeLessThan(500);
          expect(answer.headers['content-type']).toBe('application/json');
          const parsed = answer.json<{ statusCode?: number; data?: string }>();
          if (answer.status === 200) expect(typeof parsed.data).toBe('string');
          else expect(parsed.statusCode).toBe(answer.status);
        }
      }),
      { numRuns: 15 },
    );
    const after = await postJson(running.app.url, '/transform', { data: 'still here' });
    expect(after.status).toBe(200);
  });
});

describe('health and docs', () => {
  it('GET /health is ready and shows Shoutcloud and Redis as information', async () => {
    const response = await send(running.app.url, 'GET', '/health');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const body = response.json<{ status: string; details: Record<string, { status: string; breaker?: string }> }>();
    expect(body.status).toBe('ok');
    expect(body.details.shoutcloud).toMatchObject({ status: 'up', breaker: 'closed' });
    expect(body.details.redis).toMatchObject({ status: 'up', configured: false });
  });

  it('GET /health/live answers without touching Shoutcloud', async () => {
    const before = running.upstream.requests;
    const response = await send(running.app.url, 'GET', '/health/live');
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok' });
    expect(running.upstream.requests).toBe(before);
  });

  it('GET /docs-json documents every route, the old ones deprecated, with the DTO schemas', async () => {
    const response = await send(running.app.url, 'GET', '/docs-json');
    expect(response.status).toBe(200);
    const document = response.json<{
      info: { version: string };
      paths: Record<string, Record<string, { deprecated?: boolean; description: string; operationId: string; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    }>();
    // `/v1/` is the `/v1` route (Fastify's ignoreTrailingSlash), described there rather than as a
    // second operation.
    expect(Object.keys(document.paths).sort()).toEqual(['/', '/health', '/health/live', '/transform', '/transform/batch', '/v1']);
    expect(document.paths['/v1'].post.description).toContain('`/v1/`');
    expect(document.paths['/transform'].post.deprecated).toBeFalsy();
    for (const legacy of ['/', '/v1']) expect(document.paths[legacy].post.deprecated).toBe(true);
    const operationIds = Object.values(document.paths).flatMap((item) => Object.values(item).map((operation) => operation.operationId));
    expect(new Set(operationIds).size).toBe(operationIds.length);
    expect(Object.keys(document.paths['/transform'].post.responses).sort()).toEqual(
      ['200', '400', '413', '415', '429', '502', '503', '504'],
    );
    expect(document.components.schemas.TransformRequestDto.properties).toHaveProperty('data');
    expect(document.components.schemas.TransformRequestDto.required).toEqual(['data']);
    expect(document.components.schemas.ErrorResponseDto.properties).toHaveProperty('statusCode');
    expect(document.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('GET /docs serves the Swagger UI page', async () => {
    const response = await send(running.app.url, 'GET', '/docs');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.text).toContain('swagger-ui');
  });
});
