// Load generators: wrk (a C program, so the load generator is not what limits the figures) for
// throughput and latency, plain `http` requests for the herd.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JSON_HEADERS = { 'content-type': 'application/json' };
const WRK_DIR = fileURLToPath(new URL('../wrk/', import.meta.url));
const bodyDir = mkdtempSync(join(tmpdir(), 'transform-bench-'));
let bodyFiles = 0;
process.on('exit', () => rmSync(bodyDir, { recursive: true, force: true }));

/** A prefix no earlier run used, so "new input" really is new to every cache. */
export const nonce = () => randomBytes(6).toString('base64url');

export const bodyOf = (data) => JSON.stringify({ data });

/**
 * Stops the bench in one line when wrk is missing: there is no fallback, because a load generator
 * written in Node on the same 2 cores tops out near the service's own speed and hides the gap.
 */
export function requireWrk() {
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (probe.error) throw new Error('wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`; the bench has no other load generator');
  return /wrk\s+(\S+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1] ?? 'unknown';
}

function textFile(text) {
  const file = join(bodyDir, `body-${bodyFiles++}.json`);
  writeFileSync(file, text);
  return file;
}

const bodyFile = (data) => textFile(bodyOf(data));

/** What wrk sends: one fixed input, a new input on every request, or nine fixed and one new. */
export const bodies = {
  fixed: (data) => ({ script: 'fixed.lua', env: { WRK_BODY_FILE: bodyFile(data) } }),
  /** Every request a new input: `<prefix>-<thread>-<n> ` padded to `chars` with filler text. */
  unique: (prefix, chars = 0) => ({ script: 'unique.lua', env: { WRK_PREFIX: prefix, WRK_CHARS: String(chars) } }),
  /**
   * Every request a new input: `<prefix>-<thread>-<n> ` padded with spaces to `headChars` (ASCII),
   * then all of `filler` (any Unicode), so each input has `headChars` + the filler's code points.
   */
  uniqueWith: (prefix, filler, headChars = 32) => ({
    script: 'unique.lua',
    env: { WRK_PREFIX: prefix, WRK_CHARS: String(headChars), WRK_FILLER_FILE: textFile(JSON.stringify(filler).slice(1, -1)) },
  }),
  /**
   * `POST /transform/batch` with `items` new inputs of `chars` characters each on every request:
   * every item a miss, the body about `items` x `chars` bytes.
   */
  batch: (prefix, items = 100, chars = 1000) => ({ script: 'batch.lua', env: { WRK_PREFIX: prefix, WRK_ITEMS: String(items), WRK_CHARS: String(chars) } }),
  /** `missEvery - 1` requests for `hot` (a hit), then one new input (a miss), and again. */
  mixed: (hot, prefix, missEvery = 10) => ({
    script: 'unique.lua',
    env: { WRK_PREFIX: prefix, WRK_MISS_EVERY: String(missEvery), WRK_BODY_FILE: bodyFile(hot) },
  }),
};

/**
 * One wrk run against `POST {url}/transform` (or the path its script sets) for `durationS`; with `stopAfter`, each of wrk's
 * threads stops after that many answers (the run is then bounded by count, `durationS` is a cap).
 * @returns req/s, latency percentiles in ms (wrk records microseconds; p50/p90/p99 corrected for
 * coordinated omission as wrk prints them, p99Measured one sample per answer: see report.lua), errors (socket errors,
 * timeouts and answers >= 400), and wrk's raw line.
 */
export async function load(url, { connections = 50, threads = 1, durationS, stopAfter, requestSpec, timeoutS = 10 }) {
  const { script, env } = requestSpec;
  const child = spawn(
    'wrk',
    [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, `--timeout=${timeoutS}s`, '-s', join(WRK_DIR, script), `${url}/transform`],
    {
      env: {
        ...process.env,
        ...env,
        WRK_REPORT_LUA: join(WRK_DIR, 'report.lua'),
        WRK_CONNECTIONS: String(connections),
        ...(stopAfter ? { WRK_STOP_AFTER: String(Math.ceil(stopAfter / threads)) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    if (stopAfter && stdout.split('WRK_THREAD_DONE').length > threads) child.kill('SIGINT');
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = await once(child, 'exit');
  const line = /^WRK_JSON (.*)$/m.exec(stdout)?.[1];
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${stderr.trim() || stdout.trim()}`);
  const r = JSON.parse(line);
  const seconds = r.durationUs / 1e6;
  const socketErrors = r.connect + r.read + r.write + r.timeout;
  return {
    reqPerSec: seconds > 0 ? r.requests / seconds : 0,
    p50: r.p50 / 1000,
    p90: r.p90 / 1000,
    p99: r.p99 / 1000,
    p99Measured: r.measured.p99 / 1000,
    maxMs: r.max / 1000,
    errors: socketErrors + r.status,
    non2xx: r.status,
    socketErrors,
    completed: r.requests,
    durationS: seconds,
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
