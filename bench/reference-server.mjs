// A plain `node:http` server doing the same work as `POST /transform`, as lean as it can be:
// the yardstick the service's numbers are divided by (issue 6). No framework, no logging, no
// metrics, no resilience policies; the same cache idea (an LRU plus one upstream call per input
// in flight) and the same kind of upstream client (`http.request` on a keep-alive agent).
//
//   PORT=4000 SHOUTCLOUD_URL=http://127.0.0.1:8080 node bench/reference-server.mjs
import { Agent, createServer, request as httpRequest } from 'node:http';

const PORT = Number(process.env.PORT ?? 4000);
const HOST = process.env.HOST ?? '127.0.0.1';
const SHOUTCLOUD_URL = (process.env.SHOUTCLOUD_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const MAX_INPUT_LENGTH = Number(process.env.MAX_INPUT_LENGTH ?? 10_000);
const MAX_BODY_BYTES = Number(process.env.MAX_BODY_BYTES ?? 131_072);
const CACHE_MAX_ENTRIES = Number(process.env.CACHE_MAX_ENTRIES ?? 100_000);
const CACHE_TTL_MS = Number(process.env.CACHE_TTL_SECONDS ?? 86_400) * 1000;
const UPSTREAM_TIMEOUT_MS = Number(process.env.SHOUTCLOUD_TIMEOUT_MS ?? 1000);

const upstream = new URL(`${SHOUTCLOUD_URL}/V1/SHOUT`);
// Same settings as the service's axios agent, so the two differ in code, not in socket policy.
const agent = new Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 64, timeout: 30_000 });

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
// eslint-disable-next-line no-control-regex -- in ASCII only CR LF spans two code units
const SINGLE_UNIT_GRAPHEMES = /^[\0-\x0c\x0e-\x7f]*$/;

function reverseGraphemes(text) {
  if (SINGLE_UNIT_GRAPHEMES.test(text)) {
    let reversed = '';
    for (let i = text.length - 1; i >= 0; i--) reversed += text[i];
    return reversed;
  }
  const clusters = [];
  for (const { segment } of segmenter.segment(text)) clusters.push(segment);
  return clusters.reverse().join('');
}

function codePointLength(text) {
  let pairs = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return text.length - pairs;
}

// A Map keeps insertion order: re-inserting on a hit makes it an LRU, the first key is the oldest.
const cache = new Map();
const inFlight = new Map();

function cacheGet(key) {
  const entry = cache.get(key);
  if (entry === undefined) return undefined;
  if (entry.freshUntil <= Date.now()) return undefined;
  cache.delete(key);
  cache.set(key, entry);
  return entry.output;
}

function cacheSet(key, output) {
  cache.delete(key);
  cache.set(key, { output, freshUntil: Date.now() + CACHE_TTL_MS });
  if (cache.size > CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value);
}

function shout(text) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ INPUT: text });
    const req = httpRequest(
      upstream,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) },
        timeout: UPSTREAM_TIMEOUT_MS,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`upstream ${res.statusCode}`));
          try {
            const output = JSON.parse(Buffer.concat(chunks).toString('utf8')).OUTPUT;
            if (typeof output !== 'string') return reject(new Error('upstream reply without OUTPUT'));
            resolve(output);
          } catch (error) {
            reject(error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('upstream timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function upperCase(text) {
  const cached = cacheGet(text);
  if (cached !== undefined) return { hit: true, output: cached };
  let flight = inFlight.get(text);
  if (!flight) {
    flight = shout(text)
      .then((output) => {
        cacheSet(text, output);
        return output;
      })
      .finally(() => inFlight.delete(text));
    inFlight.set(text, flight);
  }
  return { hit: false, output: flight };
}

function send(res, status, payload, xCache) {
  const body = JSON.stringify(payload);
  const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  if (xCache) headers['X-Cache'] = xCache;
  res.writeHead(status, headers);
  res.end(body);
}

const fail = (res, status, error) => send(res, status, { statusCode: status, error });

function handle(req, res, raw) {
  let parsed;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail(res, 400, 'The request body is not valid JSON.');
  }
  const data = parsed?.data;
  if (typeof data !== 'string') return fail(res, 400, 'data must be a string');
  if (!data.isWellFormed()) return fail(res, 400, 'data must be well-formed Unicode');
  if (data.length > MAX_INPUT_LENGTH && codePointLength(data) > MAX_INPUT_LENGTH) {
    return fail(res, 400, `data must be at most ${MAX_INPUT_LENGTH} characters`);
  }
  if (data === '') return send(res, 200, { data: '' }, 'BYPASS');

  const { hit, output } = upperCase(reverseGraphemes(data));
  if (hit) return send(res, 200, { data: output }, 'HIT');
  output.then(
    (shouted) => send(res, 200, { data: shouted }, 'MISS'),
    () => fail(res, 503, 'Shoutcloud is unreachable or failing; try again shortly.'),
  );
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/health' || req.url === '/health/live')) return send(res, 200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/transform') return fail(res, 404, 'Not found.');
  if (req.headers['content-type'] !== 'application/json') return fail(res, 415, 'Send application/json.');
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      fail(res, 413, 'The request body is too large.');
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (size <= MAX_BODY_BYTES) handle(req, res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  });
});
server.keepAliveTimeout = 65_000;
server.listen(PORT, HOST, () => process.stdout.write(`reference server listening on http://${HOST}:${PORT}\n`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    agent.destroy();
  });
}
