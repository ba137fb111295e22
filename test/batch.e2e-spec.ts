import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { goToUpper } from '../src/shoutcloud/go-to-upper.js';
import { reverseGraphemes } from '../src/transform/reverse-graphemes.js';
import { startTestApp, type TestApp } from './support/app.js';
import { postJson, send } from './support/http.js';

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2)}`;
const expected = (text: string) => goToUpper(reverseGraphemes(text));

let upstream: ShoutcloudServer;
let app: TestApp;
const metricsText = async () => (await fetch(`${app.metricsUrl}/metrics`)).text();

beforeAll(async () => (upstream = await startShoutcloudServer()));
afterAll(() => upstream?.close());
beforeEach(() => upstream.reset());

describe('POST /transform/batch', () => {
  beforeAll(async () => (app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, BATCH_MAX_ITEMS: '5', MAX_BODY_BYTES: '2048' })));
  afterAll(() => app?.close());

  it('answers every item in order, new texts in one upstream call, then from the cache', async () => {
    const items = [unique('Hello, wörld! 👋'), '', unique('e\u0301x straße'), unique('🇫🇷 flag')];
    const first = await postJson(app.url, '/transform/batch', { data: items });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.json()).toEqual({ data: items.map(expected) });
    expect(first.headers['x-cache']).toBe('MISS');
    expect(upstream.requests).toBe(1);

    const again = await postJson(app.url, '/transform/batch', { data: items });
    expect(again.json()).toEqual(first.json());
    expect(again.headers['x-cache']).toBe('HIT');
    expect(upstream.requests).toBe(1);
  });

  it('asks Shoutcloud once for a text repeated in the batch, and only for the texts not cached', async () => {
    const cached = unique('cached');
    await postJson(app.url, '/transform', { data: cached });
    upstream.reset();
    const fresh = unique('fresh');
    const response = await postJson(app.url, '/transform/batch', { data: [cached, fresh, fresh] });
    expect(response.json()).toEqual({ data: [expected(cached), expected(fresh), expected(fresh)] });
    // The worst provenance of the items: one came from Shoutcloud just now.
    expect(response.headers['x-cache']).toBe('MISS');
    expect(upstream.requests).toBe(1);
  });

  it('answers [] and all-empty batches without Shoutcloud (BYPASS)', async () => {
    for (const data of [[], ['', '']]) {
      const response = await postJson(app.url, '/transform/batch', { data });
      expect(response.json()).toEqual({ data });
      expect(response.headers['x-cache']).toBe('BYPASS');
    }
    expect(upstream.requests).toBe(0);
  });

  it('names bad items by index in a 400, and calls nobody', async () => {
    const response = await postJson(app.url, '/transform/batch', { data: ['ok', 3, 'x\ud800', null] });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({
      statusCode: 400,
      error: 'The request body is not valid.',
      details: ['data[1] must be a string', 'data[2] must be well-formed Unicode (no lone surrogates)', 'data[3] must be a string'],
    });
    expect(upstream.requests).toBe(0);
  });

  it.each([
    ['more than BATCH_MAX_ITEMS items', { data: ['a', 'b', 'c', 'd', 'e', 'f'] }, ['data must have at most 5 items']],
    ['data not an array', { data: 'abc' }, ['data must be an array of strings']],
    ['no data', {}, ['data is required']],
  ])('refuses %s with a 400', async (_name, body, details) => {
    const response = await postJson(app.url, '/transform/batch', body);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ statusCode: 400, details });
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'data=a&data=b'],
    ['a form with one field', 'application/x-www-form-urlencoded', 'data=a'],
    ['plain text', 'text/plain', '["a"]'],
  ])('refuses %s with a 415 that names JSON, without calling Shoutcloud', async (_name, contentType, body) => {
    const response = await send(app.url, 'POST', '/transform/batch', { headers: { 'content-type': contentType }, body });
    expect(response.status).toBe(415);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toEqual({ statusCode: 415, error: 'Send the body as application/json: this route takes JSON only.' });
    expect(upstream.requests).toBe(0);
  });

  it('keeps the body cap: 413 past MAX_BODY_BYTES', async () => {
    const response = await postJson(app.url, '/transform/batch', { data: ['x'.repeat(1500), 'y'.repeat(1500)] });
    expect(response.status).toBe(413);
  });

  it('is documented in /docs-json with its DTO schemas', async () => {
    const document = (await send(app.url, 'GET', '/docs-json')).json<{
      paths: Record<string, { post: { requestBody: unknown; responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, { properties: Record<string, { type: string; items?: { type: string } }> }> };
    }>();
    const batch = document.paths['/transform/batch'].post;
    expect(Object.keys(batch.responses).sort()).toEqual(['200', '400', '413', '415', '429', '502', '503', '504']);
    expect(JSON.stringify(batch.requestBody)).toContain('TransformBatchRequestDto');
    for (const name of ['TransformBatchRequestDto', 'TransformBatchResponseDto']) {
      expect(document.components.schemas[name].properties.data).toMatchObject({ type: 'array', items: { type: 'string' } });
    }
  });

  it('is counted in the metrics: requests by its route, items by where their answer came from', async () => {
    const misses = async () => Number(/^transform_cache_outcomes_total\{outcome="miss",tier="none"\} (\d+)/m.exec(await metricsText())?.[1] ?? 0);
    const before = await misses();
    await postJson(app.url, '/transform/batch', { data: [unique('counted'), unique('counted'), unique('counted')] });
    expect(await misses()).toBe(before + 3);
    expect(await metricsText()).toMatch(/^http_requests_total\{route="\/transform\/batch",method="POST",status="200"\} [1-9]/m);
  });
});

describe('POST /transform/batch when Shoutcloud fails', () => {
  const FAST = { SHOUTCLOUD_TIMEOUT_MS: '400', REQUEST_DEADLINE_MS: '3000', SHOUTCLOUD_BREAKER_THRESHOLD: '1000' };

  it('fails as a whole with the usual 503 when an item has no answer', async () => {
    app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, ...FAST });
    try {
      const cached = unique('cached');
      await postJson(app.url, '/transform', { data: cached });
      upstream.setFaults({ status: 503 });
      const response = await postJson(app.url, '/transform/batch', { data: [cached, unique('new')] });
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBeDefined();
      expect(response.json()).toMatchObject({ statusCode: 503 });
    } finally {
      await app.close();
    }
  });

  it('serves stale and fallback answers item by item; X-Cache says the worst', async () => {
    app = await startTestApp({
      SHOUTCLOUD_URL: upstream.url,
      ...FAST,
      SHOUTCLOUD_FALLBACK: 'local',
      CACHE_TTL_SECONDS: '1',
      CACHE_STALE_SECONDS: '600',
    });
    try {
      const old = unique('old');
      await postJson(app.url, '/transform', { data: old });
      // Past its TTL: only a stale answer is left for it.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      upstream.setFaults({ status: 503 });
      const stale = await postJson(app.url, '/transform/batch', { data: [old] });
      expect(stale.headers['x-cache']).toBe('STALE');
      const fresh = unique('straße');
      const mixed = await postJson(app.url, '/transform/batch', { data: [old, fresh, ''] });
      expect(mixed.status).toBe(200);
      expect(mixed.headers['x-cache']).toBe('FALLBACK');
      // The stale entry for the first, the local upper-casing (Shoutcloud's rule: ß stays) for the second.
      expect(mixed.json()).toEqual({ data: [expected(old), expected(fresh), ''] });
    } finally {
      await app.close();
    }
  });
});
