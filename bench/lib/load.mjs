// Load generators: autocannon for throughput and latency, plain `http` requests for the herd.
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A prefix no earlier run used, so "new input" really is new to every cache. */
export const nonce = () => randomBytes(6).toString('base64url');

export const bodyOf = (data) => JSON.stringify({ data });

/** Bodies for autocannon: one fixed input, or a new input on every request (optionally mixed). */
export const bodies = {
  fixed: (data) => ({ body: bodyOf(data) }),
  /** Every request a new input: `<prefix>-<n>` padded to `chars` with filler text. */
  unique(prefix, chars = 0) {
    let n = 0;
    const filler = 'the quick brown fox jumps over the lazy dog '.repeat(Math.ceil(chars / 44) + 1);
    return {
      setupRequest(req) {
        const head = `${prefix}-${n++} `;
        req.body = bodyOf(chars > head.length ? head + filler.slice(0, chars - head.length) : head);
        return req;
      },
    };
  },
  /** `missEvery - 1` requests for `hot` (a hit), then one new input (a miss), and again. */
  mixed(hot, prefix, missEvery = 10) {
    let n = 0;
    const hotBody = bodyOf(hot);
    return {
      setupRequest(req) {
        n++;
        req.body = n % missEvery === 0 ? bodyOf(`${prefix}-${n}`) : hotBody;
        return req;
      },
    };
  },
};

/**
 * One autocannon run against `POST {url}/transform`; `durationS` or `amount` bounds it.
 * @returns req/s, latency percentiles (ms; autocannon records whole milliseconds), error count.
 */
export async function cannon(url, { connections = 50, durationS, amount, requestSpec }) {
  const { setupRequest, body } = requestSpec;
  const result = await autocannon({
    url: `${url}/transform`,
    connections,
    ...(amount ? { amount } : { duration: durationS }),
    timeout: 10,
    requests: [{ method: 'POST', path: '/transform', headers: JSON_HEADERS, ...(body ? { body } : {}), ...(setupRequest ? { setupRequest } : {}) }],
  });
  const completed = result.requests.total;
  return {
    reqPerSec: result.duration > 0 ? completed / result.duration : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    completed,
    durationS: result.duration,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
  };
}

/**
 * The thundering herd: `count` requests for one input fired at once, each on its own socket.
 * @returns how many answered 200 with the expected body, wall time, and latency percentiles (ms).
 */
export async function herd(url, { count = 1000, input, expected }) {
  const agent = new Agent({ keepAlive: false, maxSockets: count + 10 });
  const body = bodyOf(input);
  const headers = { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(body)) };
  const latencies = [];
  const statuses = {};
  let ok = 0;
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolve) => {
          const sent = performance.now();
          const req = request(`${url}/transform`, { method: 'POST', agent, headers, timeout: 30_000 }, (res) => {
            const chunks = [];
            res.on('data', (chunk) => chunks.push(chunk));
            res.on('end', () => {
              latencies.push(performance.now() - sent);
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              const text = Buffer.concat(chunks).toString('utf8');
              if (res.statusCode === 200 && text === bodyOf(expected)) ok++;
              resolve();
            });
            res.on('error', () => resolve());
          });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', () => {
            statuses.error = (statuses.error ?? 0) + 1;
            resolve();
          });
          req.end(body);
        }),
    ),
  );
  const wallMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] : NaN);
  return { reqPerSec: (count / wallMs) * 1000, p50: pct(50), p99: pct(99), ok, errors: count - ok, statuses, wallMs };
}
