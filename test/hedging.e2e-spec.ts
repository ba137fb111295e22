import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { goToUpper } from '../src/shoutcloud/go-to-upper.js';
import { reverseGraphemes } from '../src/transform/reverse-graphemes.js';
import { startTestApp, type TestApp } from './support/app.js';
import { postJson } from './support/http.js';

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2)}`;
const expected = (text: string) => goToUpper(reverseGraphemes(text));

/** Sends `count` distinct requests one after the other; every answer must be right. */
async function sequentialMisses(app: TestApp, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const input = unique(`miss ${i}`);
    const response = await postJson(app.url, '/transform', { data: input });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ data: expected(input) });
  }
}

/**
 * Sends `count` distinct requests in waves of `wave` at once (each wave waits for the previous);
 * every answer must be right. With coalescing off, each is one upstream try of its own.
 */
async function missesInWaves(app: TestApp, count: number, wave: number): Promise<void> {
  for (let sent = 0; sent < count; sent += wave) {
    await Promise.all(
      Array.from({ length: Math.min(wave, count - sent) }, async (_, i) => {
        const input = unique(`miss ${sent + i}`);
        const response = await postJson(app.url, '/transform', { data: input });
        expect(response.status).toBe(200);
        expect(response.json()).toEqual({ data: expected(input) });
      }),
    );
  }
}

/** `shoutcloud_hedges_total` as the app reports it. */
async function hedges(app: TestApp): Promise<number> {
  const metrics = await (await fetch(`${app.metricsUrl}/metrics`)).text();
  return Number(/^shoutcloud_hedges_total (\d+)/m.exec(metrics)?.[1]);
}

/** Resolves once the upstream has seen `count` cancelled calls. */
async function cancelledReached(upstream: ShoutcloudServer, count: number): Promise<void> {
  while (upstream.cancelled < count) await new Promise((resolve) => setImmediate(resolve));
}

const LEARNED = 20;

let upstream: ShoutcloudServer;
beforeAll(async () => (upstream = await startShoutcloudServer()));
afterAll(() => upstream?.close());
beforeEach(() => upstream.reset());

describe('hedged tries (SHOUTCLOUD_HEDGE=on, the default)', () => {
  it('hedges the slow tries of an upstream that is slow 1 try in 10, and cancels them', async () => {
    // A floor of half a second under the hedge delay: a stall of the test machine cannot pass for
    // a slow try, and the slow ones (30 s) are hedged all the same.
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_HEDGE_MIN_MS: '500', SHOUTCLOUD_HEDGE_MAX_MS: '1000' });
    try {
      await sequentialMisses(app, LEARNED);
      upstream.reset();
      upstream.setFaults({ slowEvery: { n: 10, latencyMs: 30_000 } });
      const requests = 60;
      await sequentialMisses(app, requests);
      // Every 10th try the upstream received was slow; each was hedged, and lost.
      const slow = Math.floor(upstream.requests / 10);
      expect(slow).toBeGreaterThanOrEqual(5);
      await cancelledReached(upstream, slow);
      expect(upstream.cancelled).toBe(slow);
      expect(upstream.requests).toBe(requests + slow);
      expect(await hedges(app)).toBe(slow);
    } finally {
      await app.close();
    }
  }, 60_000);

  it('never hedges an upstream that is uniformly slow', async () => {
    // The maximum out of the way: the learned delay alone must keep the hedges away. A second of
    // latency, so that only a stall of the test machine longer than a fifth of it (the delay's
    // headroom over the learned p95) could pass for a slow try; timeouts well above it. Tries go
    // ten at a time (coalescing off, so each request is one try): three waves, not 30 s of them.
    const app = await startTestApp({
      SHOUTCLOUD_URL: upstream.url,
      SHOUTCLOUD_COALESCE: 'off',
      SHOUTCLOUD_HEDGE_MAX_MS: '5000',
      SHOUTCLOUD_TIMEOUT_MS: '4000',
      REQUEST_DEADLINE_MS: '10000',
    });
    try {
      upstream.setFaults({ latencyMs: 1000 });
      const requests = LEARNED + 10;
      await missesInWaves(app, requests, 10);
      expect(upstream.requests).toBe(requests);
      expect(upstream.cancelled).toBe(0);
      expect(await hedges(app)).toBe(0);
    } finally {
      await app.close();
    }
  }, 90_000);
});

describe('SHOUTCLOUD_HEDGE=off', () => {
  it('holds a slow try until its timeout, then retries it', async () => {
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_HEDGE: 'off', SHOUTCLOUD_TIMEOUT_MS: '300' });
    try {
      await sequentialMisses(app, LEARNED);
      upstream.reset();
      upstream.setFaults({ slowEvery: { n: 5, latencyMs: 30_000 } });
      await sequentialMisses(app, 9);
      // Tries 5 and 10 were slow and timed out; their retries were tries 6 and 11.
      expect(upstream.requests).toBe(11);
      await cancelledReached(upstream, 2);
      expect(upstream.cancelled).toBe(2);
      expect(await hedges(app)).toBe(0);
    } finally {
      await app.close();
    }
  }, 60_000);
});
