import { jest } from '@jest/globals';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { testAppWithUpstream } from './support/app.js';
import { send } from './support/http.js';

// /metrics and the detailed /health live on METRICS_PORT, away from the public port; many
// scrapers at once cost one rendering. Redis is pointed at a closed port: the app never needs it,
// and /health still has a Redis address to show or keep back.

const SCRAPERS = 16;
const ROUNDS = 5;

describe('the metrics port', () => {
  // A reuse far longer than the test, so the count of renderings does not depend on timing.
  const running = testAppWithUpstream({ REDIS_URL: 'redis://127.0.0.1:1', METRICS_CACHE_MS: '60000' });

  it('serves /metrics in Prometheus text; the public port answers 404 there, in the API shape', async () => {
    const scrape = await send(running.app.metricsUrl, 'GET', '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(scrape.text).toMatch(/^# TYPE http_requests_total counter$/m);
    const publicScrape = await send(running.app.url, 'GET', '/metrics');
    expect(publicScrape.status).toBe(404);
    expect(publicScrape.headers['content-type']).toBe('application/json');
    expect(publicScrape.json()).toMatchObject({ statusCode: 404 });
  });

  it('shows where Redis is only on the metrics port; the public /health keeps what probes need', async () => {
    const publicHealth = await send(running.app.url, 'GET', '/health');
    expect(publicHealth.status).toBe(200);
    const shown = publicHealth.json<{ status: string; details: { redis: Record<string, unknown> } }>();
    expect(shown.status).toBe('ok');
    expect(shown.details.redis).toMatchObject({ status: 'up', configured: true, via: 'url' });
    expect(publicHealth.text).not.toContain('127.0.0.1:1');
    expect(shown.details.redis).not.toHaveProperty('primary');

    const internalHealth = await send(running.app.metricsUrl, 'GET', '/health');
    expect(internalHealth.status).toBe(200);
    expect(internalHealth.json<{ details: { redis: Record<string, unknown> } }>().details.redis).toMatchObject({ primary: '127.0.0.1:1' });
  });

  it(`gives ${SCRAPERS} scrapers at once, ${ROUNDS} times over, one rendering`, async () => {
    const first = await send(running.app.metricsUrl, 'GET', '/metrics');
    const render = jest.spyOn(running.app.app.get(MetricsService), 'exposition');
    try {
      const texts = new Set([first.text]);
      for (let round = 0; round < ROUNDS; round++) {
        const scrapes = await Promise.all(Array.from({ length: SCRAPERS }, () => send(running.app.metricsUrl, 'GET', '/metrics')));
        for (const scrape of scrapes) texts.add(scrape.text);
      }
      // The first scrape rendered; every later one, within the reuse, gets that rendering.
      expect(render).toHaveBeenCalledTimes(0);
      expect(texts.size).toBe(1);
    } finally {
      render.mockRestore();
    }
  });

  it.each([
    ['an unknown path', 'GET', '/', 404],
    ['another method', 'POST', '/metrics', 405],
  ])('answers %s in the API shape', async (_name, method, path, status) => {
    const answer = await send(running.app.metricsUrl, method, path);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.json()).toMatchObject({ statusCode: status, error: 'This port serves GET /metrics and GET /health only.' });
  });
});

describe('the metrics port with METRICS_CACHE_MS=0', () => {
  const running = testAppWithUpstream({ METRICS_CACHE_MS: '0' });

  it('renders again for each scrape that comes after the last rendering', async () => {
    const render = jest.spyOn(running.app.app.get(MetricsService), 'exposition');
    try {
      for (let i = 0; i < 3; i++) expect((await send(running.app.metricsUrl, 'GET', '/metrics')).status).toBe(200);
      expect(render).toHaveBeenCalledTimes(3);
    } finally {
      render.mockRestore();
    }
  });
});
