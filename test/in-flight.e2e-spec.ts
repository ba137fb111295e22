import { request as httpRequest } from 'node:http';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startTestApp, type TestApp } from './support/app.js';
import { send } from './support/http.js';

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 500 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

/** `http_requests_in_flight` as /metrics reports it (scrapes go to the metrics port, uncounted). */
async function inFlight(app: TestApp): Promise<number> {
  const { text } = await send(app.metricsUrl, 'GET', '/metrics');
  const line = text.split('\n').find((l) => l.startsWith('http_requests_in_flight '));
  return Number(line?.split(' ')[1]);
}

describe('http_requests_in_flight', () => {
  let upstream: ShoutcloudServer;
  let app: TestApp;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    // Coalescing off: one upstream call per request, so the upstream's count says all are in flight.
    app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_TIMEOUT_MS: '10000', REQUEST_DEADLINE_MS: '10000', SHOUTCLOUD_COALESCE: 'off' });
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  it('is 0 at rest after answered requests', async () => {
    for (let i = 0; i < 3; i++) expect((await send(app.url, 'GET', '/health/live')).status).toBe(200);
    expect(await inFlight(app)).toBe(0);
  });

  it('goes back down when clients leave before their answer', async () => {
    upstream.reset();
    upstream.setFaults({ hang: true });
    const clients = Array.from({ length: 5 }, (_, i) => {
      const client = httpRequest(`${app.url}/transform`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      client.on('error', () => undefined);
      client.end(JSON.stringify({ data: `abandoned-${i}-${Math.random()}` }));
      return client;
    });
    await waitFor(() => upstream.requests === 5);
    expect(await inFlight(app)).toBe(5);
    for (const client of clients) client.destroy();
    // Each abandoned request cancels its upstream call once the service has seen the client go.
    await waitFor(() => upstream.cancelled === 5);
    expect(await inFlight(app)).toBe(0);
    upstream.setFaults();
    // An answer after the abandoned ones still counts up and down once.
    expect((await send(app.url, 'GET', '/health/live')).status).toBe(200);
    expect(await inFlight(app)).toBe(0);
  });
});
