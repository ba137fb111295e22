// A second opinion on the hedging figures, from a plain Node keep-alive client: the production
// build and the bundled Shoutcloud-compatible server (every 20th try answered after 1 s), N
// connections each sending one new input after another; 3 s unmeasured, then the percentiles.
//   npm run build && node bench/wrk/hedge-check.mjs <connections> <seconds> <on|off>
import { spawn } from 'node:child_process';
import http from 'node:http';
import { startShoutcloudServer } from '../../dist/shoutcloud-server/shoutcloud-server.js';

const [connections, seconds, hedge] = [Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 15), process.argv[4] ?? 'on'];
const upstream = await startShoutcloudServer();
const port = 30_000 + Math.floor(Math.random() * 5000);
const app = spawn(process.execPath, [new URL('../../dist/main.js', import.meta.url).pathname], {
  env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_HEDGE: hedge },
  stdio: 'inherit',
});
for (;;) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/health/live`)).ok) break;
  } catch {
    // not listening yet
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
let sent = 0;
let failed = 0;
const post = (data) =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify({ data });
    const request = http.request(
      { host: '127.0.0.1', port, path: '/transform', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => response.resume().on('end', () => resolve(response.statusCode)),
    );
    request.on('error', reject);
    request.end(body);
  });
async function load(ms, latencies) {
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const started = performance.now();
        if ((await post(`check ${sent++} ${Math.random()}`)) !== 200) failed++;
        latencies?.push(performance.now() - started);
      }
    }),
  );
}

upstream.setFaults({ slowEvery: { n: 20, latencyMs: 1000 } });
await load(3000);
const latencies = [];
await load(seconds * 1000, latencies);
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.ceil(q * latencies.length) - 1].toFixed(1);
process.stdout.write(
  `SHOUTCLOUD_HEDGE=${hedge}, ${connections} connections: ${latencies.length} requests, ms p50 ${at(0.5)} p90 ${at(0.9)} ` +
    `p95 ${at(0.95)} p99 ${at(0.99)} max ${latencies.at(-1).toFixed(0)}, non-200 ${failed}; upstream calls ${upstream.requests}, cancelled ${upstream.cancelled}\n`,
);
app.kill();
agent.destroy();
await upstream.close();
