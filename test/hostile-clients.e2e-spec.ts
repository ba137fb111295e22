import { connect } from 'node:net';
import { once } from 'node:events';
import { testAppWithUpstream } from './support/app.js';
import { postJson, send, type RawResponse } from './support/http.js';

// What a client that does not play by the rules meets: a body that never finishes, headers
// past the limit, a URL that does not decode, an Expect nobody can meet, a CONNECT,
// X-Forwarded-For values made up to dodge the rate limit. Every answer is the API's: JSON error body, exact content type, request id, security
// headers, and counted in the metrics.

const REQUEST_TIMEOUT_MS = 1000;
const running = testAppWithUpstream({ REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), RATE_LIMIT_PER_MINUTE: '5', TRUST_PROXY_HOPS: '1' });

/** Writes raw bytes on a new connection and reads until the server closes it. */
async function rawExchange(bytes: string): Promise<{ text: string; closedAfterMs: number }> {
  const { port } = new URL(running.app.url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  const started = Date.now();
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.write(bytes);
  await once(socket, 'close');
  return { text, closedAfterMs: Date.now() - started };
}

/** Status, headers (lower-cased) and body of one raw HTTP/1.1 answer. */
function parseRaw(text: string) {
  const [head, body] = text.split('\r\n\r\n', 2);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as { statusCode: number; error: string } };
}

function expectApiAnswer(status: number, headers: Record<string, unknown>, body: { statusCode: number; error: string }) {
  expect(body.statusCode).toBe(status);
  expect(body.error.length).toBeGreaterThan(10);
  expect(headers['content-type']).toBe('application/json');
  expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['content-security-policy']).toContain("default-src 'none'");
}

async function answeredCount(status: number): Promise<number> {
  const metrics = (await send(running.app.metricsUrl, 'GET', '/metrics')).text;
  const counted = metrics.split('\n').filter((line) => line.startsWith('http_requests_total{') && line.includes(`status="${status}"`));
  return counted.reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('answers Node and Fastify give before any route', () => {
  it.each([
    [
      'a body that stalls past REQUEST_TIMEOUT_MS',
      408,
      'POST /transform HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"data":"x',
      'did not arrive whole within 1000 ms',
    ],
    ['headers that never end', 408, 'POST /transform HTTP/1.1\r\nHost: x\r\nX-Slow: a', 'did not arrive whole within 1000 ms'],
    ['headers over the limit', 431, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 'headers are larger'],
    ['bytes that are not HTTP', 400, 'NOT HTTP AT ALL\r\n\r\n', 'not well-formed HTTP'],
    [
      'an Expect other than 100-continue',
      417,
      'POST /transform HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"data":"x"}',
      'only 100-continue',
    ],
    ['a CONNECT', 405, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 'not a proxy'],
  ])('%s: %i in the API shape, then the connection is closed', async (_name, status, bytes, says) => {
    const before = await answeredCount(status);
    const { text, closedAfterMs } = await rawExchange(bytes);
    const answer = parseRaw(text);
    expect(answer.status).toBe(status);
    expectApiAnswer(status, answer.headers, answer.body);
    expect(answer.body.error).toContain(says);
    expect(answer.headers.connection).toBe('close');
    // Node checks request timeouts on an interval; the service sets it so a stalled request is
    // closed within the timeout and a second.
    if (status === 408) expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1000);
    if (status === 405) expect(answer.headers.allow).toBe('GET, POST');
    expect(await answeredCount(status)).toBe(before + 1);
  });

  it('Expect: 100-continue still gets 100 Continue, then the answer', async () => {
    const { text } = await rawExchange(
      'POST /transform HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"data":"x"}',
    );
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  });

  it('a URL that does not decode: 400 in the API shape', async () => {
    const before = await answeredCount(400);
    const response = await send(running.app.url, 'GET', '/%zz');
    expect(response.status).toBe(400);
    expectApiAnswer(400, response.headers, response.json());
    expect(response.json<{ error: string }>().error).toContain('URL is not valid');
    expect(await answeredCount(400)).toBe(before + 1);
  });
});

describe('the rate limit behind one trusted proxy (TRUST_PROXY_HOPS=1)', () => {
  const statusesWith = async (forwardedFor: (i: number) => string, count: number) => {
    const responses: RawResponse[] = [];
    for (let i = 0; i < count; i++) responses.push(await postJson(running.app.url, '/transform', { data: 'limit' }, { 'x-forwarded-for': forwardedFor(i) }));
    return responses.map((response) => response.status);
  };

  it.each([
    ['unique 8 KB junk values', (i: number) => `${i}-${'junk'.repeat(2048)}`],
    ['junk that looks almost like an address', (i: number) => `10.0.0.${300 + i}`],
    ['a valid address before junk', (i: number) => `198.51.100.${i}, not-an-ip-${i}`],
  ])('counts %s under the connection address, not the header', async (_name, forwardedFor) => {
    // All requests of this file come from 127.0.0.1: start from a fresh window for that key by
    // using a header value that resolves to it only through the fallback.
    const statuses = await statusesWith(forwardedFor, 8);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(3);
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(5);
  });

  it('counts a spoofed first entry under the address the proxy appended', async () => {
    const statuses = await statusesWith((i) => `203.0.113.${i}, 192.0.2.77`, 7);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });

  it.each([
    ['::1 spelled ten ways', ['::1', '0:0:0:0:0:0:0:1', '::0:1', '0000::0001', '0::1', '::0001', '0:0::1', '0:0:0:0:0:0::1', '::0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001']],
    ['198.51.100.9 in its IPv4-mapped spellings', ['::ffff:198.51.100.9', '::FFFF:198.51.100.9', '::ffff:c633:6409', '0:0:0:0:0:ffff:198.51.100.9', '0:0:0:0:0:FFFF:C633:6409', '0000:0000:0000:0000:0000:ffff:c633:6409', '198.51.100.9', '::ffff:C633:6409']],
    ['fe80::1 with a different zone ID each time, up to 5,000 characters', Array.from({ length: 10 }, (_, i) => `fe80::1%${'z'.repeat(i * 555)}${i}`)],
    ['ten addresses of one IPv6 /64', Array.from({ length: 10 }, (_, i) => `2001:db8:77:1::${(i + 1).toString(16)}`)],
  ])('gives one budget to %s', async (_name, spellings) => {
    const statuses = await statusesWith((i) => spellings[i], spellings.length);
    expect(statuses).toEqual([...Array(5).fill(200), ...Array(spellings.length - 5).fill(429)]);
  });

  it('counts each valid address on its own', async () => {
    const statuses = await statusesWith((i) => `192.0.2.${100 + i}`, 7);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200]);
  });
});
