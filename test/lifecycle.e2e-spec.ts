import { once } from 'node:events';
import { connect } from 'node:net';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { runAppExpectingExit, startApp } from './support/app-process.js';
import { postJson, send } from './support/http.js';

describe('graceful shutdown', () => {
  let upstream: ShoutcloudServer;
  beforeAll(async () => {
    upstream = await startShoutcloudServer();
  });
  afterAll(() => upstream?.close());

  it('SIGTERM with 30 slow requests in flight: readiness turns 503, all 30 get 200, exit code 0', async () => {
    // One upstream call per request (no coalescing, no hedge, no retry of a slow try), so the
    // upstream's count says all 30 are in flight.
    const app = await startApp({
      SHOUTCLOUD_URL: upstream.url,
      SHUTDOWN_DELAY_MS: '300',
      SHUTDOWN_GRACE_MS: '5000',
      SHOUTCLOUD_COALESCE: 'off',
      SHOUTCLOUD_HEDGE: 'off',
      SHOUTCLOUD_TIMEOUT_MS: '4000',
    });
    upstream.setFaults({ latencyMs: 800 });
    const inFlight = Array.from({ length: 30 }, (_, i) => postJson(app.url, '/transform', { data: `slow ${i}` }));
    // Wait until every request has reached the upstream: they are all in flight.
    for (let attempt = 0; attempt < 100 && upstream.requests < 30; attempt++) await new Promise((r) => setTimeout(r, 20));
    expect(upstream.requests).toBe(30);

    const exited = app.stop('SIGTERM');
    // Within SHUTDOWN_DELAY_MS the listener is still open: readiness turns 503, liveness stays 200.
    let readiness = await send(app.url, 'GET', '/health');
    for (let attempt = 0; attempt < 100 && readiness.status !== 503; attempt++) readiness = await send(app.url, 'GET', '/health');
    expect(readiness.status).toBe(503);
    expect(readiness.headers['content-type']).toBe('application/json');
    expect((await send(app.url, 'GET', '/health/live')).status).toBe(200);

    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(200));
    const code = await exited;
    expect(code).toBe(0);
    upstream.setFaults();
  });

  it("a request caught mid-headers by SIGTERM gets the API's 503 with Retry-After, and the process exits 0", async () => {
    const app = await startApp({ SHOUTCLOUD_URL: upstream.url });
    const socket = connect(app.port, '127.0.0.1');
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const body = JSON.stringify({ data: 'late' });
    socket.write(`POST /transform HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`);
    const exited = app.stop('SIGTERM');
    // Once new connections are refused the server is closing; this one, mid-request, stays open.
    for (let attempt = 0; attempt < 500; attempt++) {
      if (await send(app.url, 'GET', '/health/live').then(() => false, () => true)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    socket.write(`Content-Length: ${body.length}\r\n\r\n${body}`);
    await once(socket, 'close');
    const [head, answer] = received.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head).toMatch(/^content-type: application\/json$/im);
    expect(head).toMatch(/^retry-after: 1$/im);
    expect(head).toMatch(/^x-request-id: \S+$/im);
    expect(head).toMatch(/^x-content-type-options: nosniff$/im);
    expect(JSON.parse(answer)).toEqual({ statusCode: 503, error: 'This replica is shutting down; send the request again.' });
    expect(await exited).toBe(0);
  });

  it('exits 0 on SIGTERM when idle', async () => {
    const app = await startApp({ SHOUTCLOUD_URL: upstream.url });
    expect(await app.stop('SIGTERM')).toBe(0);
  });
});

describe('configuration validated at start-up', () => {
  it('a bad value stops start-up with one line per bad variable and a non-zero exit', async () => {
    const { code, output } = await runAppExpectingExit({
      PORT: 'eighty',
      SHOUTCLOUD_URL: 'not a url',
      SHOUTCLOUD_TIMEOUT_MS: '1e3',
      SHOUTCLOUD_FALLBACK: 'sometimes',
      LOG_LEVEL: 'loud',
      MAX_INPUT_LENGTH: '10',
    });
    expect(code).toBe(1);
    const problems = output.split('\n').filter((line) => /^ {2}[A-Z_]+=/.test(line));
    expect(problems.map((line) => line.trim().split('=')[0]).sort()).toEqual(
      ['LOG_LEVEL', 'PORT', 'SHOUTCLOUD_FALLBACK', 'SHOUTCLOUD_TIMEOUT_MS', 'SHOUTCLOUD_URL'].sort(),
    );
    expect(output).not.toMatch(/at .*\.js:\d+/);
  });

  it('blank values fall back to the defaults', async () => {
    const app = await startApp({ SHOUTCLOUD_URL: upstream.url, CACHE_TTL_SECONDS: '', REDIS_URL: '' });
    try {
      expect((await send(app.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await app.stop();
    }
  });

  let upstream: ShoutcloudServer;
  beforeAll(async () => {
    upstream = await startShoutcloudServer();
  });
  afterAll(() => upstream?.close());
});
