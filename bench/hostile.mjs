// What a hostile client costs a build: one 65,536-field form body, a body that stalls, and a
// flood of unique junk X-Forwarded-For values at a rate limit. Compares builds in one run:
//
//   node bench/hostile.mjs [other-build/dist/main.js ...]   (BENCH_SERVICE_MAIN replaces the first)
//
// Each build runs alone, with the Deployment's heap bound (NODE_OPTIONS) and the bundled
// Shoutcloud-compatible server; every wait is bounded.
import { connect } from 'node:net';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { httpCall, rssMiB, ROOT, SERVICE_MAIN, SHOUTCLOUD_MAIN, startProcess } from './lib/processes.mjs';

const FLOOD_REQUESTS = 20_000;
const FLOOD_CONNECTIONS = 50;
const STALL_CAP_MS = 40_000;
const FORM_CAP_MS = 300_000;
const builds = [SERVICE_MAIN, ...process.argv.slice(2).map((path) => resolve(path))];

/** Milliseconds until one 65,536-field form is answered, and how long a liveness probe sent meanwhile took. */
async function formParse(url) {
  const body = 'a&'.repeat(65_535) + 'a';
  const timed = async (call) => {
    const started = performance.now();
    const { status } = await call.catch(() => ({ status: 'no answer' }));
    return { status, ms: status === 'no answer' ? undefined : performance.now() - started };
  };
  const options = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, timeoutMs: FORM_CAP_MS };
  const form = timed(httpCall(`${url}/v1`, options));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const probe = await timed(httpCall(`${url}/health/live`, { timeoutMs: FORM_CAP_MS }));
  const answered = await form;
  return { status: answered.status, answeredMs: answered.ms, probeMs: probe.ms };
}

/** Milliseconds until the server closes a connection whose body stops after 10 of 100 bytes (capped). */
async function stalledSocket(url) {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  const started = performance.now();
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  socket.write('POST /transform HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"data":"x');
  const closed = once(socket, 'close').then(() => performance.now() - started);
  const capped = new Promise((resolve) => setTimeout(() => resolve(undefined), STALL_CAP_MS));
  const lifetime = await Promise.race([closed, capped]);
  socket.destroy();
  return lifetime;
}

/** Unique 8 KB junk X-Forwarded-For values at a limit of 5 a minute: answers by status, and RSS. */
async function junkForwardedFor(service) {
  const statuses = {};
  let next = 0;
  let peakMiB = await rssMiB(service.pid);
  const worker = async () => {
    while (next < FLOOD_REQUESTS) {
      const i = next++;
      try {
        const { status } = await httpCall(`${service.url}/transform`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `${i}-${'junk'.repeat(2048)}` },
          body: '{"data":"x"}',
          timeoutMs: 10_000,
        });
        statuses[status] = (statuses[status] ?? 0) + 1;
      } catch {
        statuses.failed = (statuses.failed ?? 0) + 1;
      }
      if (i % 500 === 0) peakMiB = Math.max(peakMiB, await rssMiB(service.pid));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: FLOOD_CONNECTIONS }, worker));
  const seconds = (performance.now() - started) / 1000;
  const alive = service.child.exitCode === null && service.child.signalCode === null;
  if (alive) peakMiB = Math.max(peakMiB, await rssMiB(service.pid));
  return { statuses, seconds, peakMiB, alive };
}

const upstream = await startProcess({ name: 'shoutcloud-server', script: SHOUTCLOUD_MAIN, env: { SHOUTCLOUD_SERVER_CONTROL: 'on' }, readyPath: '/__control/stats' });
const rows = [];
try {
  for (const script of builds) {
    const service = await startProcess({
      name: 'service',
      script,
      env: {
        SHOUTCLOUD_URL: upstream.url,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '5',
        TRUST_PROXY_HOPS: '1',
        NODE_OPTIONS: '--max-old-space-size=256',
      },
    });
    try {
      const form = await formParse(service.url);
      const stall = await stalledSocket(service.url);
      const flood = await junkForwardedFor(service);
      rows.push({ script: script.startsWith(ROOT) ? script.slice(ROOT.length) : script, form, stall, flood });
    } finally {
      await service.stop();
    }
  }
} finally {
  await upstream.stop();
}

const ms = (value, capMs = STALL_CAP_MS) => (value === undefined ? `> ${capMs / 1000} s` : `${Math.round(value)} ms`);
const say = (line) => process.stdout.write(`${line}\n`);
say(`hostile clients, ${new Date().toISOString()}, node ${process.version}`);
for (const { script, form, stall, flood } of rows) {
  say(`\n${script}`);
  say(`  65,536-field form: ${form.status} after ${ms(form.answeredMs, FORM_CAP_MS)}; /health/live meanwhile: ${ms(form.probeMs, FORM_CAP_MS)}`);
  say(`  stalled body: socket closed after ${ms(stall)}${stall === undefined ? ' (still open)' : ''}`);
  say(
    `  ${FLOOD_REQUESTS} junk X-Forwarded-For values in ${flood.seconds.toFixed(1)} s: ${JSON.stringify(flood.statuses)}, ` +
      `peak RSS ${Math.round(flood.peakMiB)} MiB${flood.alive ? '' : ', the process died'}`,
  );
}
