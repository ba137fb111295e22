import { Agent, request } from 'node:http';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { goToUpper } from '../src/shoutcloud/go-to-upper.js';
import { reverseGraphemes } from '../src/transform/reverse-graphemes.js';
import { startTestApp, type TestApp } from './support/app.js';
import { postJson } from './support/http.js';

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2)}`;
const expected = (text: string) => goToUpper(reverseGraphemes(text));

/** `POST /transform` on a given agent; resolves with the status and the body. */
function transformOn(agent: Agent, url: string, data: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ data });
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${url}/transform`,
      { method: 'POST', agent, signal, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Resolves once the upstream has received `count` calls in all. */
async function upstreamReached(upstream: ShoutcloudServer, count: number): Promise<void> {
  while (upstream.requests < count) await new Promise((resolve) => setImmediate(resolve));
}

/** Resolves once the app holds `count` requests besides the scrape asking. */
async function inFlight(app: TestApp, count: number): Promise<void> {
  for (;;) {
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    if (Number(/^http_requests_in_flight (\d+)/m.exec(metrics)?.[1]) - 1 >= count) return;
  }
}

let upstream: ShoutcloudServer;
beforeAll(async () => (upstream = await startShoutcloudServer()));
afterAll(() => upstream?.close());
beforeEach(() => upstream.reset());

describe('upstream coalescing (SHOUTCLOUD_COALESCE=on, the default)', () => {
  let app: TestApp;
  // Generous limits: this file counts calls, and a loaded machine must not turn them into retries.
  beforeAll(async () => (app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_TIMEOUT_MS: '10000', REQUEST_DEADLINE_MS: '30000' })));
  afterAll(() => app?.close());

  it('a herd of 1,000 distinct new inputs makes at most 20 upstream calls, every answer right', async () => {
    const herd = 1000;
    // Every connection is open before the herd, so that it arrives at once and not at the pace
    // of this process setting up a thousand connections.
    const agent = new Agent({ keepAlive: true, maxSockets: herd, maxFreeSockets: herd });
    try {
      await Promise.all(Array.from({ length: herd }, () => transformOn(agent, app.url, '')));
      const inputs = Array.from({ length: herd }, (_, i) => unique(`herd ${i} ß😀e\u0301`));
      const answers = await Promise.all(inputs.map((input) => transformOn(agent, app.url, input)));
      answers.forEach((answer, i) => {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body)).toEqual({ data: expected(inputs[i]) });
      });
      process.stdout.write(`coalescing: ${herd} distinct new inputs at once → ${upstream.requests} upstream calls\n`);
      expect(upstream.requests).toBeLessThanOrEqual(20);
    } finally {
      agent.destroy();
    }
  }, 120_000);

  it('a herd on one input still makes exactly one upstream call', async () => {
    upstream.setFaults({ latencyMs: 200 });
    const input = unique('one input');
    const answers = await Promise.all(Array.from({ length: 100 }, () => postJson(app.url, '/transform', { data: input })));
    for (const answer of answers) expect(answer.json()).toEqual({ data: expected(input) });
    expect(upstream.requests).toBe(1);
  });

  it('sequential requests still reach Shoutcloud one text per call', async () => {
    for (let i = 0; i < 10; i++) {
      const input = unique(`sequential ${i}`);
      expect((await postJson(app.url, '/transform', { data: input })).json()).toEqual({ data: expected(input) });
    }
    expect(upstream.requests).toBe(10);
  });

  it('an answer that does not split back falls back to one call per text, and is counted', async () => {
    // An upstream using full case mapping: 'ß' becomes 'SS', one code point more than asked.
    upstream.setFaults({ caseMapping: 'full' });
    const items = [unique('straße'), unique('plain')];
    const response = await postJson(app.url, '/transform/batch', { data: items });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ data: items.map((item) => reverseGraphemes(item).toUpperCase()) });
    expect(upstream.requests).toBe(1 + items.length);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^shoutcloud_coalesce_mismatches_total [1-9]/m);
  });

  it('a coalesced call goes on while one of its texts is still awaited, and is cancelled once none is', async () => {
    upstream.setFaults({ latencyMs: 1500 });
    const shared = unique('shared');
    const leaving = new AbortController();
    const agent = new Agent({ keepAlive: true });
    try {
      const batchBody = JSON.stringify({ data: [unique('alone'), shared] });
      const batch = new Promise<void>((resolve) => {
        const outgoing = request(`${app.url}/transform/batch`, {
          method: 'POST',
          agent,
          signal: leaving.signal,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(batchBody) },
        });
        outgoing.on('error', () => resolve());
        outgoing.end(batchBody);
      });
      await upstreamReached(upstream, 1);
      // Another request now waits for the shared text; then the batch's client leaves.
      const staying = transformOn(agent, app.url, shared);
      await inFlight(app, 2);
      leaving.abort();
      await batch;
      expect(await staying).toEqual({ status: 200, body: JSON.stringify({ data: expected(shared) }) });
      expect(upstream.requests).toBe(1);
      expect(upstream.cancelled).toBe(0);

      // This time every waiter leaves: the call is cancelled.
      const gone = new AbortController();
      const lone = transformOn(agent, app.url, unique('gone'), gone.signal).catch(() => undefined);
      await upstreamReached(upstream, 2);
      gone.abort();
      await lone;
      while (upstream.cancelled < 1) await new Promise((resolve) => setImmediate(resolve));
      expect(upstream.cancelled).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

describe('SHOUTCLOUD_COALESCE=off', () => {
  it('sends every miss on its own call', async () => {
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_COALESCE: 'off' });
    try {
      const items = Array.from({ length: 5 }, (_, i) => unique(`alone ${i}`));
      const response = await postJson(app.url, '/transform/batch', { data: items });
      expect(response.json()).toEqual({ data: items.map(expected) });
      expect(upstream.requests).toBe(items.length);
    } finally {
      await app.close();
    }
  });
});
