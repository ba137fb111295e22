import { Agent, request } from 'node:http';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { goToUpper } from '../src/shoutcloud/go-to-upper.js';
import { reverseGraphemes } from '../src/transform/reverse-graphemes.js';
import { startTestApp } from './support/app.js';
import { startApp, type AppProcess } from './support/app-process.js';
import { postJson } from './support/http.js';

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2)}`;
const expected = (text: string) => goToUpper(reverseGraphemes(text));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** `POST path` with a JSON body on a given agent; resolves with the status, headers and body. */
function postOn(agent: Agent, url: string, path: string, payload: unknown, signal?: AbortSignal): Promise<Answer> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${url}${path}`,
      { method: 'POST', agent, signal, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const transformOn = (agent: Agent, url: string, data: string, signal?: AbortSignal) => postOn(agent, url, '/transform', { data }, signal);

/** A keep-alive agent with `sockets` connections already open, so that no request waits for one. */
async function warmAgent(url: string, sockets: number): Promise<Agent> {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });
  // `""` needs no upstream call.
  await Promise.all(Array.from({ length: sockets }, () => transformOn(agent, url, '')));
  return agent;
}

/**
 * Sends `inputs` as an open-loop Poisson stream of `perSecond` requests a second: each request is
 * sent when it is due, whatever the answers to the earlier ones.
 */
async function poissonStream(agent: Agent, url: string, inputs: string[], perSecond: number): Promise<Answer[]> {
  const started = performance.now();
  let dueMs = 0;
  const answers: Promise<Answer>[] = [];
  for (const input of inputs) {
    dueMs += (-Math.log(1 - Math.random()) * 1000) / perSecond;
    const waitMs = started + dueMs - performance.now();
    if (waitMs >= 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    answers.push(transformOn(agent, url, input));
  }
  return Promise.all(answers);
}

function expectEveryAnswerRight(answers: Answer[], inputs: string[]): void {
  const wrong = answers.filter((answer, i) => answer.status !== 200 || answer.body !== JSON.stringify({ data: expected(inputs[i]) }));
  expect(wrong).toEqual([]);
}

/** Resolves once the upstream has received `count` calls in all. */
async function upstreamReached(upstream: ShoutcloudServer, count: number): Promise<void> {
  while (upstream.requests < count) await new Promise((resolve) => setImmediate(resolve));
}

/** Resolves once the app holds `count` requests besides the scrape asking. */
async function inFlight(app: AppProcess, count: number): Promise<void> {
  for (;;) {
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    if (Number(/^http_requests_in_flight (\d+)/m.exec(metrics)?.[1]) - 1 >= count) return;
  }
}

let upstream: ShoutcloudServer;
beforeAll(async () => (upstream = await startShoutcloudServer()));
afterAll(() => upstream?.close());
beforeEach(() => upstream.reset());

describe('batching misses (SHOUTCLOUD_COALESCE=on, the default)', () => {
  // A process of its own: the open-loop streams below must not share an event loop with the
  // service, or its work would bunch their arrivals.
  let app: AppProcess;
  let agent: Agent;
  // Generous limits: this file counts calls, and a loaded machine must not turn them into retries.
  // Hedging off: the latencies change from test to test, and a hedge learned at 20 ms would add a
  // second try to every call at 150 ms (test/hedging.e2e-spec.ts measures hedges).
  beforeAll(async () => {
    app = await startApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_TIMEOUT_MS: '10000', REQUEST_DEADLINE_MS: '30000', SHOUTCLOUD_HEDGE: 'off' });
    agent = await warmAgent(app.url, 400);
  });
  afterAll(async () => {
    agent?.destroy();
    await app?.stop();
  });

  it.each([50, 150])(
    '1,000 distinct new inputs as an open-loop Poisson stream at 2,000/s, Shoutcloud at %i ms: at most 20 calls, every answer right',
    async (latencyMs) => {
      upstream.setFaults({ latencyMs });
      const inputs = Array.from({ length: 1000 }, (_, i) => unique(`stream ${i} ß😀e\u0301`));
      const answers = await poissonStream(agent, app.url, inputs, 2000);
      expectEveryAnswerRight(answers, inputs);
      process.stdout.write(`batching: 1,000 misses at 2,000/s, upstream ${latencyMs} ms → ${upstream.requests} upstream calls\n`);
      expect(upstream.requests).toBeLessThanOrEqual(20);
    },
    120_000,
  );

  it('1,000 distinct new inputs from 100 closed-loop clients, Shoutcloud at 20 ms: at most 20 calls, every answer right', async () => {
    upstream.setFaults({ latencyMs: 20 });
    const clients = 100;
    const inputs = Array.from({ length: 1000 }, (_, i) => unique(`closed ${i} ß😀`));
    const answers: Answer[] = [];
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        for (let i = client; i < inputs.length; i += clients) answers[i] = await transformOn(agent, app.url, inputs[i]);
      }),
    );
    expectEveryAnswerRight(answers, inputs);
    process.stdout.write(`batching: 1,000 misses from 100 closed-loop clients, upstream 20 ms → ${upstream.requests} upstream calls\n`);
    expect(upstream.requests).toBeLessThanOrEqual(20);
  }, 120_000);

  it('a herd on one input makes exactly one upstream call', async () => {
    upstream.setFaults({ latencyMs: 200 });
    const input = unique('one input');
    const answers = await Promise.all(Array.from({ length: 100 }, () => transformOn(agent, app.url, input)));
    expectEveryAnswerRight(answers, answers.map(() => input));
    expect(upstream.requests).toBe(1);
  });

  it('the batch route sends 50 new texts in at most 3 calls', async () => {
    upstream.setFaults({ latencyMs: 20 });
    const items = Array.from({ length: 50 }, (_, i) => unique(`batch ${i}`));
    const response = await postJson(app.url, '/transform/batch', { data: items });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ data: items.map(expected) });
    process.stdout.write(`batching: the batch route, 50 new texts → ${upstream.requests} upstream calls\n`);
    expect(upstream.requests).toBeLessThanOrEqual(3);
  });

  it('sends a lone miss at once, alone', async () => {
    for (let i = 0; i < 10; i++) {
      const input = unique(`sequential ${i}`);
      expect((await postJson(app.url, '/transform', { data: input })).json()).toEqual({ data: expected(input) });
    }
    expect(upstream.requests).toBe(10);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^shoutcloud_queue_wait_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^shoutcloud_queue_texts 0$/m);
    expect(metrics).toMatch(/^shoutcloud_calls_in_flight 0$/m);
  });

  it('a text whose part is not its case variant goes again alone; alone, a 502, never cached; its neighbour keeps its answer', async () => {
    // An upstream using full case mapping: 'ß' becomes 'SS', one code point more than asked.
    upstream.setFaults({ caseMapping: 'full', latencyMs: 200 });
    const busy = transformOn(agent, app.url, unique('busy'));
    await upstreamReached(upstream, 1);
    // Both wait for the busy slot, then go in one call.
    const [sharp, plain] = [unique('straße'), unique('plain')];
    const [sharpAnswer, plainAnswer] = await Promise.all([transformOn(agent, app.url, sharp), transformOn(agent, app.url, plain)]);
    expect((await busy).status).toBe(200);
    expect(sharpAnswer.status).toBe(502);
    expect([plainAnswer.status, plainAnswer.body]).toEqual([200, JSON.stringify({ data: reverseGraphemes(plain).toUpperCase() })]);
    // busy; sharp and plain together; sharp alone.
    expect(upstream.requests).toBe(3);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^shoutcloud_coalesce_mismatches_total [2-9]/m);
    // The text that came back whole was cached; the other was not.
    const again = await postJson(app.url, '/transform', { data: plain });
    expect(again.headers['x-cache']).toBe('HIT');
    expect((await postJson(app.url, '/transform', { data: sharp })).status).toBe(502);
    expect(upstream.requests).toBe(4);
  });

  it('a call goes on while one of its texts is still awaited, and is cancelled once none is', async () => {
    upstream.setFaults({ latencyMs: 1500 });
    const shared = unique('shared');
    const leaving = new AbortController();
    const batch = postOn(agent, app.url, '/transform/batch', { data: [unique('alone'), shared] }, leaving.signal).catch(() => undefined);
    await upstreamReached(upstream, 1);
    // Another request now waits for the shared text; then the batch's client leaves.
    const staying = transformOn(agent, app.url, shared);
    await inFlight(app, 2);
    leaving.abort();
    await batch;
    const answer = await staying;
    expect([answer.status, answer.body]).toEqual([200, JSON.stringify({ data: expected(shared) })]);
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
  });
});

describe('a hung upstream', () => {
  it('keeps the queue within its bytes: the excess is a 503 with Retry-After at once, the queued ones time out', async () => {
    upstream.setFaults({ hang: true });
    const app = await startTestApp({
      SHOUTCLOUD_URL: upstream.url,
      SHOUTCLOUD_QUEUE_MAX_BYTES: '1024',
      SHOUTCLOUD_HEDGE: 'off',
      SHOUTCLOUD_TIMEOUT_MS: '10000',
      REQUEST_DEADLINE_MS: '2000',
    });
    const agent = await warmAgent(app.url, 41);
    try {
      const first = transformOn(agent, app.url, unique('first'));
      await upstreamReached(upstream, 1);
      // 40 texts of 100 bytes: 10 fit in the queue's 1,024 bytes.
      const inputs = Array.from({ length: 40 }, (_, i) => `${i} `.padEnd(100, 'x'));
      const answers = await Promise.all([first, ...inputs.map((input) => transformOn(agent, app.url, input))]);
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status !== 503 && status !== 504)).toEqual([]);
      const refused = answers.filter((answer) => answer.status === 503);
      expect(refused.length).toBeGreaterThanOrEqual(20);
      for (const answer of refused) expect(answer.headers['retry-after']).toBe('1');
      expect(statuses.filter((status) => status === 504).length).toBeGreaterThanOrEqual(2);
      // The hung call, then the queue's one call once the first caller's deadline freed the slot.
      expect(upstream.requests).toBeLessThanOrEqual(2);
    } finally {
      agent.destroy();
      await app.close();
    }
  }, 60_000);
});

describe('SHOUTCLOUD_COALESCE=off', () => {
  it('sends every miss on its own call, at once', async () => {
    upstream.setFaults({ latencyMs: 100 });
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

describe('an upstream whose time grows with the size of a call', () => {
  it('is never sent a call that passes the per-try timeout: 60 clients with 1 KB texts, every answer right', async () => {
    // 5 ms + 20 µs per byte: a call of all 60 texts would take 1.2 s, past the 1 s try timeout.
    upstream.setFaults({ latencyMs: 5, latencyPerByteUs: 20 });
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_HEDGE: 'off', SHOUTCLOUD_TIMEOUT_MS: '1000', REQUEST_DEADLINE_MS: '5000' });
    const agent = await warmAgent(app.url, 60);
    try {
      const inputs: string[] = [];
      const answers: Answer[] = [];
      await Promise.all(
        Array.from({ length: 60 }, async (_, client) => {
          for (let round = 0; round < 3; round++) {
            const input = unique(`${client}-${round} `).padEnd(1024, 'k');
            inputs.push(input);
            answers.push(await transformOn(agent, app.url, input));
          }
        }),
      );
      expect(answers.filter((answer, i) => answer.status !== 200 || answer.body !== JSON.stringify({ data: expected(inputs[i]) }))).toEqual([]);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).not.toMatch(/^shoutcloud_tries_total\{outcome="timeout"\} [1-9]/m);
    } finally {
      agent.destroy();
      await app.close();
    }
  }, 60_000);
});
