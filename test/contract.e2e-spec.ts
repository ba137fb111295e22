import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BeforeApplicationShutdown } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';
import type { ShoutcloudFault } from '../src/shoutcloud-server/shoutcloud-server.js';
import { testAppWithUpstream } from './support/app.js';
import { startPrismProxy, violationsOf, type PrismProxy, type PrismViolation } from './support/prism.js';

// Every route and every status the document gives it, sent through Stoplight Prism's validating
// proxy in front of the app: an answer that departs from openapi.json (its status, headers or
// body), or one the document does not describe, fails. openapi.e2e-spec.ts keeps openapi.json
// equal to /docs-json; this keeps the answers equal to the document.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OPENAPI = join(ROOT, 'openapi.json');

// No retries, hedges or breaker trips, so that one queued fault is one failed request; a deadline
// shorter than the per-try timeout, so that a hung Shoutcloud is the 504; a rate limit keyed on
// X-Forwarded-For (Prism forwards it as sent), so each request is a client of its own.
const running = testAppWithUpstream({
  SHOUTCLOUD_RETRIES: '0',
  SHOUTCLOUD_HEDGE: 'off',
  SHOUTCLOUD_BREAKER_THRESHOLD: '1000',
  SHOUTCLOUD_TIMEOUT_MS: '5000',
  REQUEST_DEADLINE_MS: '1500',
  RATE_LIMIT_PER_MINUTE: '2',
  TRUST_PROXY_HOPS: '1',
  SHUTDOWN_DELAY_MS: '3000',
});

/**
 * openapi.json as Prism reads it: Prism matches paths exactly, and `/v1/` is the `/v1` route
 * (Fastify's ignoreTrailingSlash), described on `/v1`. The copy lists `/v1`'s description under
 * `/v1/` too, so that the answers at `/v1/` are held to it as well. `change` adds a lie, to prove
 * that the checker checks.
 */
function documentForPrism(dir: string, change: (document: OpenApiDocument) => void = () => {}): string {
  const document = JSON.parse(readFileSync(OPENAPI, 'utf8')) as OpenApiDocument;
  document.paths['/v1/'] = document.paths['/v1'];
  change(document);
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(document));
  return file;
}

interface OpenApiDocument {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, { properties: Record<string, object> }> };
}

let prism: PrismProxy;
let scratch: string;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'transform-api-contract-'));
  prism = await startPrismProxy(documentForPrism(scratch), running.app.url);
}, 60_000);
afterAll(async () => {
  await prism?.close();
  rmSync(scratch, { recursive: true, force: true });
});

let clients = 0;
let texts = 0;
/** A client address never used before, so no earlier request counts against its rate limit. */
const newClient = () => `10.0.${Math.floor(++clients / 250)}.${clients % 250}`;
/** A text never asked before, so its answer comes from Shoutcloud (and its faults). */
const newText = () => `contract ${++texts} ${Math.random().toString(36).slice(2)}`;

type Body = { type: 'json'; value: unknown } | { type: 'form'; value: string } | { type: 'text'; value: string };
const CONTENT_TYPES = { json: 'application/json', form: 'application/x-www-form-urlencoded', text: 'text/plain' };

interface Answer {
  status: number;
  violations: PrismViolation[];
}

async function through(method: string, path: string, body?: Body, client = newClient()): Promise<Answer> {
  const response = await fetch(`${prism.url}${path}`, {
    method,
    headers: { 'x-forwarded-for': client, ...(body && { 'content-type': CONTENT_TYPES[body.type] }) },
    body: body && (body.type === 'json' ? JSON.stringify(body.value) : body.value),
  });
  await response.arrayBuffer();
  return { status: response.status, violations: violationsOf(response.headers) };
}

/**
 * What Prism says about an answer: its response violations, and the request-side one that means
 * it found no operation for the request (then it checked nothing). Other request violations are
 * the point of the error cases (a number for `data`, a wrong content type).
 */
const unchecked = ({ violations }: Answer) =>
  violations.filter(({ location, message }) => location?.[0] === 'response' || message === 'Selected route not found');

// One text per route, as JSON; the form where the route takes forms.
const ONE_TEXT: Record<string, (data: unknown) => Body> = {
  '/transform': (data) => ({ type: 'json', value: { data } }),
  '/transform/batch': (data) => ({ type: 'json', value: { data: [data] } }),
  '/': (data) => ({ type: 'json', value: { data } }),
  '/v1': (data) => ({ type: 'json', value: { data } }),
  '/v1/': (data) => ({ type: 'json', value: { data } }),
};
const POST_ROUTES = Object.keys(ONE_TEXT);
const FORM_ROUTES = ['/transform', '/', '/v1', '/v1/'];
const OVERSIZED = 'x'.repeat(140_000);

type Answered = [route: string, what: string, status: number, body: () => Body];

/** [route, what, status, body]: the app's own answers, each status the document gives the route. */
const ANSWERS: Answered[] = [
  ...POST_ROUTES.map((route) => [route, 'a text as JSON', 200, () => ONE_TEXT[route](newText())] as Answered),
  ...FORM_ROUTES.map((route) => [route, 'a text as a form', 200, () => ({ type: 'form', value: `data=${encodeURIComponent(newText())}` })] as Answered),
  ...POST_ROUTES.flatMap((route) => [
    [route, 'a number for data', 400, () => ONE_TEXT[route](42)],
    [route, 'a lone surrogate', 400, () => ONE_TEXT[route]('\ud800')],
    [route, 'a text past MAX_INPUT_LENGTH', 400, () => ONE_TEXT[route]('x'.repeat(10_001))],
    [route, 'no data', 400, () => ({ type: 'json', value: {} })],
    [route, 'JSON sent as a form', route === '/transform/batch' ? 415 : 400, () => ({ type: 'form', value: '{"data":"hi"}' })],
    [route, 'a body past MAX_BODY_BYTES', 413, () => ONE_TEXT[route](OVERSIZED)],
  ] as Answered[]),
  ['/transform/batch', 'more items than BATCH_MAX_ITEMS', 400, () => ({ type: 'json', value: { data: Array.from({ length: 101 }, () => 'x') } })],
  ['/transform', 'text/plain', 415, () => ({ type: 'text', value: 'data=hi' })],
  ['/transform/batch', 'a form', 415, () => ({ type: 'form', value: 'data=hi' })],
  // The old routes answer their one 400 sentence to a content type they cannot read.
  ...['/', '/v1', '/v1/'].map((route) => [route, 'text/plain', 400, () => ({ type: 'text', value: 'data=hi' })] as Answered),
];

/** [status, Shoutcloud's fault]: each upstream failure the document gives every POST route. */
const UPSTREAM_FAILURES: Array<[number, ShoutcloudFault]> = [
  [502, { body: 'not-json', times: 1 }],
  [502, { status: 400, times: 1 }],
  [503, { status: 500, times: 1 }],
  [503, { reset: true, times: 1 }],
  [504, { hang: true, times: 1 }],
];

describe('answers checked against openapi.json through Prism', () => {
  it.each(ANSWERS)('POST %s, %s → %i as documented', async (route, _what, status, body) => {
    const answer = await through('POST', route, body());
    expect(answer.status).toBe(status);
    expect(unchecked(answer)).toEqual([]);
  });

  it.each(POST_ROUTES.flatMap((route) => UPSTREAM_FAILURES.map(([status, fault]) => [route, status, fault] as const)))(
    'POST %s, Shoutcloud failing → %i as documented (%o)',
    async (route, status, fault) => {
      running.upstream.setFaults(fault);
      try {
        const answer = await through('POST', route, ONE_TEXT[route](newText()));
        expect(answer.status).toBe(status);
        expect(unchecked(answer)).toEqual([]);
      } finally {
        running.upstream.setFaults();
      }
    },
  );

  it.each(POST_ROUTES)('POST %s, past the rate limit → 429 as documented', async (route) => {
    const client = newClient();
    const text = newText();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await through('POST', route, ONE_TEXT[route](text), client));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    for (const answer of answers) expect(unchecked(answer)).toEqual([]);
  });

  it.each(['/health', '/health/live'])('GET %s → 200 as documented', async (path) => {
    const answer = await through('GET', path);
    expect(answer.status).toBe(200);
    expect(unchecked(answer)).toEqual([]);
  });
});

describe('the checker itself', () => {
  let doctored: PrismProxy;
  let dir: string;

  // The same document with one lie in it (every 200 of /transform at most 1 character long): the
  // same answer must now be reported, or the checks above prove nothing.
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'transform-api-contract-'));
    const path = documentForPrism(dir, (document) => {
      const { properties } = document.components.schemas.TransformResponseDto;
      properties.data = { ...properties.data, maxLength: 1 };
    });
    doctored = await startPrismProxy(path, running.app.url);
  }, 60_000);
  afterAll(async () => {
    await doctored?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports an answer that departs from the document', async () => {
    const response = await fetch(`${doctored.url}/transform`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': newClient() },
      body: JSON.stringify({ data: 'hello' }),
    });
    expect(response.status).toBe(200);
    expect(violationsOf(response.headers)).toEqual([expect.objectContaining({ location: ['response', 'body', 'data'] })]);
  });
});

// Last: the readiness probe answers 503 only once the app is shutting down. Terminus marks that
// in its beforeApplicationShutdown hook, which, called without a signal, does nothing else (no
// wait, nothing closed): the app keeps serving until testAppWithUpstream closes it.
describe('while shutting down', () => {
  it('GET /health → 503 as documented', async () => {
    const health = running.app.app.get(HealthCheckService) as unknown as { healthCheckExecutor: BeforeApplicationShutdown };
    await health.healthCheckExecutor.beforeApplicationShutdown();
    const answer = await through('GET', '/health');
    expect(answer.status).toBe(503);
    expect(unchecked(answer)).toEqual([]);
  });
});
