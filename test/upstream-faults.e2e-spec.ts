import { startShoutcloudServer, type ShoutcloudFault, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startTestApp, type TestApp } from './support/app.js';
import { postJson } from './support/http.js';

const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2)}`;

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

/**
 * Fast tries so fault tests stay quick, with room for a loaded machine (four test files run at
 * once: a try of the 150 ms latency below must not time out); the breaker out of the way unless
 * a test wants it.
 */
const FAST = {
  SHOUTCLOUD_TIMEOUT_MS: '400',
  REQUEST_DEADLINE_MS: '3000',
  SHOUTCLOUD_BREAKER_THRESHOLD: '1000',
};

/**
 * For the tests of a reply judged unusable: a try that timed out instead (a loaded machine, a
 * 2 MB reply) would be retried and answered 200, which is not what they test.
 */
const ROOMY = { ...FAST, SHOUTCLOUD_TIMEOUT_MS: '3000', REQUEST_DEADLINE_MS: '8000' };

describe('retries, timeouts and bad replies', () => {
  let upstream: ShoutcloudServer;
  let app: TestApp;
  let roomy: TestApp;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, ...FAST, SHOUTCLOUD_RETRY_BUDGET_PERCENT: '1000' });
    roomy = await startTestApp({ SHOUTCLOUD_URL: upstream.url, ...ROOMY, SHOUTCLOUD_RETRY_BUDGET_PERCENT: '1000' });
  });
  afterAll(async () => {
    await app?.close();
    await roomy?.close();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('2 transient 503s then success: one 200, three upstream calls', async () => {
    upstream.setFaults({ status: 503, times: 2 });
    const response = await postJson(app.url, '/transform', { data: unique('retry') });
    expect(response.status).toBe(200);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(upstream.requests).toBe(3);
  });

  it('a 429 is retried', async () => {
    upstream.setFaults({ status: 429, times: 1 });
    expect((await postJson(app.url, '/transform', { data: unique('429') })).status).toBe(200);
    expect(upstream.requests).toBe(2);
  });

  it('a reset connection is retried', async () => {
    upstream.setFaults({ reset: true, times: 1 });
    expect((await postJson(app.url, '/transform', { data: unique('reset') })).status).toBe(200);
    expect(upstream.requests).toBe(2);
  });

  it('a per-try timeout is retried', async () => {
    upstream.setFaults({ hang: true, times: 1 });
    expect((await postJson(app.url, '/transform', { data: unique('slow') })).status).toBe(200);
    expect(upstream.requests).toBe(2);
  });

  it('retries spent on 5xx → 503 with Retry-After, three tries', async () => {
    upstream.setFaults({ status: 500 });
    const response = await postJson(app.url, '/transform', { data: unique('down') });
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toBe('application/json');
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(upstream.requests).toBe(3);
  });

  it('a 400 from upstream is not retried → 502', async () => {
    upstream.setFaults({ status: 400 });
    const response = await postJson(app.url, '/transform', { data: unique('rejected') });
    expect(response.status).toBe(502);
    expect(upstream.requests).toBe(1);
  });

  it.each(['not-json', 'html', 'no-output'] as const)('an unusable 200 (%s) → 502, not retried, not cached', async (body) => {
    const input = unique(body);
    upstream.setFaults({ body, times: 1 });
    const bad = await postJson(roomy.url, '/transform', { data: input });
    expect(bad.status).toBe(502);
    expect(bad.json()).toMatchObject({ statusCode: 502 });
    expect(upstream.requests).toBe(1);
    const good = await postJson(roomy.url, '/transform', { data: input });
    expect(good.status).toBe(200);
    expect(good.headers['x-cache']).toBe('MISS');
    expect(upstream.requests).toBe(2);
  });

  it.each<[string, ShoutcloudFault]>([
    ['a byte that is not UTF-8 in OUTPUT', { body: 'invalid-utf8' }],
    ['an OUTPUT 2,000,000 characters long (a reply of over 2 MB)', { extraOutput: 2_000_000 }],
  ])('an unusable 200 (%s) → 502, not retried, not cached', async (_name, fault) => {
    const input = unique('unusable');
    upstream.setFaults({ ...fault, times: 1 });
    const bad = await postJson(roomy.url, '/transform', { data: input });
    expect(bad.status).toBe(502);
    expect(bad.headers['content-type']).toBe('application/json');
    expect(bad.headers['x-cache']).toBeUndefined();
    expect(bad.headers['retry-after']).toBeUndefined();
    expect(bad.json()).toMatchObject({ statusCode: 502 });
    expect(upstream.requests).toBe(1);
    const good = await postJson(roomy.url, '/transform', { data: input });
    expect(good.status).toBe(200);
    expect(good.headers['x-cache']).toBe('MISS');
    expect(good.json<{ data: string }>().data).toBe([...input].reverse().join('').toUpperCase());
    expect(upstream.requests).toBe(2);
  });

  // Needs the batcher's rule that an answer has as many code points as its question, applied to
  // a text sent alone too: it fails until that rule is there.
  it('an OUTPUT 100,000 characters longer than its input → 502, not retried, not cached (the length rule)', async () => {
    const input = unique('long-answer');
    upstream.setFaults({ extraOutput: 100_000, times: 1 });
    const bad = await postJson(roomy.url, '/transform', { data: input });
    expect(bad.status).toBe(502);
    expect(bad.headers['x-cache']).toBeUndefined();
    expect(upstream.requests).toBe(1);
    const good = await postJson(roomy.url, '/transform', { data: input });
    expect(good.status).toBe(200);
    expect(good.headers['x-cache']).toBe('MISS');
    expect(good.json<{ data: string }>().data).toBe([...input].reverse().join('').toUpperCase());
    expect(upstream.requests).toBe(2);
  });

  it('an upstream that hangs on every try → 503 once the retries are spent (timeouts are transient)', async () => {
    upstream.setFaults({ hang: true });
    const response = await postJson(app.url, '/transform', { data: unique('hang') });
    expect(response.status).toBe(503);
    expect(upstream.requests).toBe(3);
  });

  it('40 concurrent requests for one new input make exactly one upstream call', async () => {
    upstream.setFaults({ latencyMs: 150 });
    const input = unique('herd');
    const answers = await Promise.all(Array.from({ length: 40 }, () => postJson(app.url, '/transform', { data: input })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
    expect(upstream.requests).toBe(1);
  });

  it('concurrent requests share a failure too: one flight, every waiter gets its 503', async () => {
    upstream.setFaults({ latencyMs: 100, status: 500 });
    const input = unique('herd-fail');
    const answers = await Promise.all(Array.from({ length: 10 }, () => postJson(app.url, '/transform', { data: input })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(503));
    expect(upstream.requests).toBe(3);
  });
});

describe('cancellation', () => {
  let upstream: ShoutcloudServer;
  let app: TestApp;
  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_TIMEOUT_MS: '5000', REQUEST_DEADLINE_MS: '8000' });
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  /** A request its client will walk away from; `leave()` resolves once the client gave up. */
  function requestToLeave(data: string) {
    const controller = new AbortController();
    const settled = fetch(`${app.url}/transform`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data }),
      signal: controller.signal,
    }).catch((error: Error) => error.name);
    return {
      leave: () => {
        controller.abort();
        return settled;
      },
    };
  }

  it('a client that disconnects cancels the upstream call, unless another request still waits for it', async () => {
    upstream.setFaults({ latencyMs: 1000 });
    const alone = requestToLeave(unique('leaving'));
    await waitFor(() => upstream.requests === 1);
    expect(await alone.leave()).toBe('AbortError');
    await waitFor(() => upstream.cancelled === 1);
    expect(upstream.requests).toBe(1);

    // Two callers for one input: the first leaving does not cancel the second one's answer.
    const shared = unique('shared');
    const first = requestToLeave(shared);
    await waitFor(() => upstream.requests === 2);
    const second = postJson(app.url, '/transform', { data: shared });
    // Both requests in the app before the first one leaves.
    for (let attempt = 0; attempt < 200; attempt++) {
      const metrics = await fetch(`${app.metricsUrl}/metrics`).then((response) => response.text());
      if (/^http_requests_in_flight 2$/m.test(metrics)) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    await first.leave();
    expect((await second).status).toBe(200);
    expect(upstream.requests).toBe(2);
    expect(upstream.cancelled).toBe(1);
  });
});

describe('circuit breaker', () => {
  let upstream: ShoutcloudServer;
  let app: TestApp;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    app = await startTestApp({
      SHOUTCLOUD_URL: upstream.url,
      SHOUTCLOUD_TIMEOUT_MS: '200',
      SHOUTCLOUD_BREAKER_THRESHOLD: '5',
      SHOUTCLOUD_BREAKER_HALF_OPEN_MS: '1000',
    });
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  it('opens after 5 failed tries, fails fast without calling upstream, and closes after recovery', async () => {
    upstream.setFaults({ status: 503 });
    // 3 tries per request: the 5th failed try opens the breaker during the second request.
    for (let i = 0; i < 2; i++) await postJson(app.url, '/transform', { data: unique('outage') });
    const callsWhenOpen = upstream.requests;
    expect(callsWhenOpen).toBe(5);

    const fastFailures = await Promise.all(Array.from({ length: 20 }, () => postJson(app.url, '/transform', { data: unique('open') })));
    for (const failure of fastFailures) {
      expect(failure.status).toBe(503);
      expect(Number(failure.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(upstream.requests).toBe(callsWhenOpen);
    const health = (await fetch(`${app.url}/health`).then((r) => r.json())) as { details: { shoutcloud: { breaker: string } } };
    expect(health.details.shoutcloud.breaker).toBe('open');

    upstream.setFaults();
    let recovered = 0;
    for (let attempt = 0; attempt < 60 && recovered !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      recovered = (await postJson(app.url, '/transform', { data: unique('probe') })).status;
    }
    expect(recovered).toBe(200);
    const closed = (await fetch(`${app.url}/health`).then((r) => r.json())) as { details: { shoutcloud: { breaker: string } } };
    expect(closed.details.shoutcloud.breaker).toBe('closed');
  });
});

describe('an outage with and without the breaker and the retry budget', () => {
  const REQUESTS = 60;

  /** Sends REQUESTS distinct requests, ten at a time, during a total outage; returns upstream calls. */
  async function upstreamCallsDuringOutage(env: Record<string, string>): Promise<number> {
    const upstream = await startShoutcloudServer();
    // Coalescing off: these figures are per request, and coalescing would merge the calls of ten
    // concurrent requests (test/coalescing.e2e-spec.ts measures that on its own). Tries and a
    // deadline no loaded machine runs out of: a try given up before Shoutcloud saw it, or a request
    // cut short before its last try, would make fewer calls than the policy does.
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_TIMEOUT_MS: '2000', REQUEST_DEADLINE_MS: '15000', SHOUTCLOUD_COALESCE: 'off', ...env });
    try {
      upstream.setFaults({ status: 503 });
      for (let batch = 0; batch < REQUESTS / 10; batch++) {
        const answers = await Promise.all(Array.from({ length: 10 }, () => postJson(app.url, '/transform', { data: unique('outage') })));
        for (const answer of answers) expect(answer.status).toBe(503);
      }
      return upstream.requests;
    } finally {
      await app.close();
      await upstream.close();
    }
  }

  it('each guard cuts the load sent to a failing Shoutcloud', async () => {
    const unguarded = await upstreamCallsDuringOutage({ SHOUTCLOUD_BREAKER_THRESHOLD: '1000', SHOUTCLOUD_RETRY_BUDGET_PERCENT: '1000' });
    const budgetOnly = await upstreamCallsDuringOutage({ SHOUTCLOUD_BREAKER_THRESHOLD: '1000' });
    const breakerAndBudget = await upstreamCallsDuringOutage({});
    process.stdout.write(
      `outage of ${REQUESTS} requests → upstream calls: unguarded ${unguarded}, retry budget ${budgetOnly}, breaker + budget ${breakerAndBudget}\n`,
    );
    expect(unguarded).toBe(REQUESTS * 3);
    // 20% of requests plus a floor of 10 retries per window.
    expect(budgetOnly).toBeLessThanOrEqual(REQUESTS + Math.ceil(REQUESTS * 0.2) + 10);
    expect(budgetOnly).toBeGreaterThanOrEqual(REQUESTS);
    // The breaker opens after 5 failed tries; in-flight tries of the first batch may add a few.
    expect(breakerAndBudget).toBeLessThanOrEqual(5 + 10 * 3);
    expect(breakerAndBudget).toBeLessThan(budgetOnly);
  }, 120_000);
});

describe('stale answers and the local fallback', () => {
  let upstream: ShoutcloudServer;
  beforeAll(async () => {
    upstream = await startShoutcloudServer();
  });
  afterAll(() => upstream?.close());
  beforeEach(() => upstream.reset());

  it('serves an expired entry as STALE while Shoutcloud fails, and refreshes it once it is back', async () => {
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, ...FAST, CACHE_TTL_SECONDS: '1', CACHE_STALE_SECONDS: '600' });
    try {
      const input = unique('stale');
      const fresh = await postJson(app.url, '/transform', { data: input });
      expect(fresh.headers['x-cache']).toBe('MISS');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      upstream.setFaults({ status: 503 });
      const stale = await postJson(app.url, '/transform', { data: input });
      expect(stale.status).toBe(200);
      expect(stale.headers['x-cache']).toBe('STALE');
      expect(stale.text).toBe(fresh.text);
      upstream.setFaults();
      const refreshed = await postJson(app.url, '/transform', { data: input });
      expect(refreshed.headers['x-cache']).toBe('MISS');
    } finally {
      await app.close();
    }
  });

  it('with SHOUTCLOUD_FALLBACK=local, upper-cases like Shoutcloud would, marks it FALLBACK and never caches it', async () => {
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, ...FAST, SHOUTCLOUD_FALLBACK: 'local' });
    try {
      upstream.setFaults({ status: 503 });
      const input = unique('straße');
      const fallback = await postJson(app.url, '/transform', { data: input });
      expect(fallback.status).toBe(200);
      expect(fallback.headers['x-cache']).toBe('FALLBACK');
      expect(fallback.json<{ data: string }>().data).toBe([...input].reverse().join('').replace(/[a-z]/g, (c) => c.toUpperCase()));
      expect(fallback.json<{ data: string }>().data).toContain('ß');

      upstream.setFaults({ body: 'no-output' });
      expect((await postJson(app.url, '/transform', { data: unique('unusable') })).headers['x-cache']).toBe('FALLBACK');

      upstream.setFaults();
      const real = await postJson(app.url, '/transform', { data: input });
      expect(real.headers['x-cache']).toBe('MISS');
      expect(real.text).toBe(fallback.text);
    } finally {
      await app.close();
    }
  });

  it('an unusable reply (invalid UTF-8, oversize) serves an expired entry as STALE, else the FALLBACK, and caches neither', async () => {
    const app = await startTestApp({
      SHOUTCLOUD_URL: upstream.url,
      ...ROOMY,
      CACHE_TTL_SECONDS: '1',
      CACHE_STALE_SECONDS: '600',
      SHOUTCLOUD_FALLBACK: 'local',
    });
    try {
      const known = unique('known');
      const fresh = await postJson(app.url, '/transform', { data: known });
      expect(fresh.headers['x-cache']).toBe('MISS');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const faults: ShoutcloudFault[] = [{ body: 'invalid-utf8' }, { extraOutput: 2_000_000 }];
      for (const fault of faults) {
        upstream.reset();
        upstream.setFaults(fault);
        const stale = await postJson(app.url, '/transform', { data: known });
        expect([stale.status, stale.headers['x-cache'], stale.text]).toEqual([200, 'STALE', fresh.text]);
        const unknown = unique('unknown');
        const fallback = await postJson(app.url, '/transform', { data: unknown });
        expect([fallback.status, fallback.headers['x-cache']]).toEqual([200, 'FALLBACK']);
        expect(upstream.requests).toBe(2);
        upstream.setFaults();
        const real = await postJson(app.url, '/transform', { data: unknown });
        expect([real.status, real.headers['x-cache'], real.text]).toEqual([200, 'MISS', fallback.text]);
        expect(upstream.requests).toBe(3);
      }
    } finally {
      await app.close();
    }
  });

  it('an upstream that hangs → 504 when the request deadline runs out before the tries do', async () => {
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_TIMEOUT_MS: '1000', REQUEST_DEADLINE_MS: '400' });
    try {
      upstream.setFaults({ hang: true });
      const response = await postJson(app.url, '/transform', { data: unique('hang') });
      expect(response.status).toBe(504);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({ statusCode: 504 });
      expect(upstream.requests).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('with the fallback off (the default), the requirement holds: no Shoutcloud, no capitals', async () => {
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, ...FAST });
    try {
      upstream.setFaults({ status: 503 });
      expect((await postJson(app.url, '/transform', { data: unique('strict') })).status).toBe(503);
    } finally {
      await app.close();
    }
  });
});

// Shoutcloud's Retry-After, within [1, 300] s, is obeyed: no try before it has passed, and every
// request meanwhile is told the time that remains. Each case gets an app of its own: the pause
// is the client's state.
describe("Shoutcloud's Retry-After", () => {
  let upstream: ShoutcloudServer;
  let app: TestApp;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
  });
  beforeEach(async () => {
    upstream.reset();
    app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, ...FAST, SHOUTCLOUD_RETRY_BUDGET_PERCENT: '1000' });
  });
  afterEach(() => app?.close());
  afterAll(() => upstream?.close());

  it.each<[number, string, string, string, number]>([
    [429, '3600', '3600', '300', 1],
    [429, '120', '120', '120', 1],
    [503, '7', '7', '7', 1],
    [429, '0', '0', '1', 1],
    [429, 'a date a day ahead', new Date(Date.now() + 86_400_000).toUTCString(), '300', 1],
    [503, 'a date in 2015', 'Wed, 21 Oct 2015 07:28:00 GMT', '1', 1],
    // Unreadable: no pause was asked, so the retries go on.
    [429, 'soon', 'soon', '1', 3],
  ])('an upstream %i with Retry-After %s → 503 with Retry-After: %s after %i tries', async (status, _label, retryAfter, expected, tries) => {
    upstream.setFaults({ status, retryAfter });
    const response = await postJson(app.url, '/transform', { data: unique('retry-after') });
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-cache']).toBeUndefined();
    expect(response.headers['retry-after']).toBe(expected);
    expect(upstream.requests).toBe(tries);
  });

  it('sends nothing until the pause has passed, and tells the next callers the time that remains', async () => {
    upstream.setFaults({ status: 503, retryAfter: '120' });
    expect((await postJson(app.url, '/transform', { data: unique('first') })).headers['retry-after']).toBe('120');
    upstream.setFaults();
    const later = await postJson(app.url, '/transform', { data: unique('later') });
    expect(later.status).toBe(503);
    expect(Number(later.headers['retry-after'])).toBeGreaterThanOrEqual(110);
    expect(Number(later.headers['retry-after'])).toBeLessThanOrEqual(120);
    expect(later.json<{ error: string }>().error).toContain('asked for a pause');
    expect(upstream.requests).toBe(1);
  });
});
