// The honest ceiling: raw `node:http` doing the work of `POST /transform` (bench/lib/reference-core.mjs)
// with nothing else: no framework, no logging, no metrics, no resilience policies, no security
// headers. JSON.parse on the raw body, the exact Content-Type, the body cap; the service is
// divided by it in every row of the bench.
//
//   PORT=4000 SHOUTCLOUD_URL=http://127.0.0.1:8080 node bench/reference-server.mjs
import { createServer } from 'node:http';
import { agent, answer } from './lib/reference-core.mjs';

const PORT = Number(process.env.PORT ?? 4000);
const HOST = process.env.HOST ?? '127.0.0.1';
const MAX_BODY_BYTES = Number(process.env.MAX_BODY_BYTES ?? 131_072);

function send(res, { status, payload, xCache }) {
  const body = JSON.stringify(payload);
  const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  if (xCache) headers['X-Cache'] = xCache;
  res.writeHead(status, headers);
  res.end(body);
}

const fail = (res, status, error) => send(res, { status, payload: { statusCode: status, error } });

function handle(res, raw) {
  let parsed;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail(res, 400, 'The request body is not valid JSON.');
  }
  const result = answer(parsed);
  if (result instanceof Promise) result.then((done) => send(res, done));
  else send(res, result);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/health' || req.url === '/health/live')) return send(res, { status: 200, payload: { status: 'ok' } });
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
    if (size <= MAX_BODY_BYTES) handle(res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
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
