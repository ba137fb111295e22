// Child processes of the bench: the service, the two reference servers, the Shoutcloud-compatible
// server. Each listens on loopback on a free port; every child is killed if the bench dies.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The service's build: `dist/main.js`, or another build's main.js to compare two builds (BENCH_SERVICE_MAIN). */
export const SERVICE_MAIN = process.env.BENCH_SERVICE_MAIN ? resolve(process.env.BENCH_SERVICE_MAIN) : `${ROOT}dist/main.js`;
export const SHOUTCLOUD_MAIN = `${ROOT}dist/shoutcloud-server/main.js`;
export const REFERENCE_MAIN = `${ROOT}bench/reference-server.mjs`;
export const NEST_REFERENCE_MAIN = `${ROOT}bench/nest-reference.mjs`;
const LAUNCHER = `${ROOT}bench/lib/launch.mjs`;

const live = new Set();
const died = [];

/** Children that exited before the bench stopped them, e.g. `service: code 1`. */
export const unexpectedExits = () => [...died];
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Stops with a clear message when there is no build to measure: the bench never builds. */
export function requireBuild() {
  const missing = [SERVICE_MAIN, SHOUTCLOUD_MAIN].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`no production build to measure (missing ${missing.map((f) => f.slice(ROOT.length)).join(', ')}): run \`npm run build\` first; the bench does not build`);
  }
}

const builds = new Set();

/** The build's identity (mtime of dist/main.js) of every service started, to tell if it changed mid-run. */
export const buildsSeen = () => [...builds];

/**
 * Another shell's `npm run build` empties dist/ for a few seconds: wait for it rather than fail.
 * Processes already running are not affected (they loaded every module at start-up).
 */
async function waitForBuild(script) {
  if (!script.startsWith(`${ROOT}dist/`)) return;
  const deadline = Date.now() + 120_000;
  let said = false;
  while (!existsSync(script)) {
    if (Date.now() > deadline) throw new Error(`${script} is still missing after 120 s: run \`npm run build\``);
    if (!said) process.stderr.write(`[bench] ${script.slice(ROOT.length)} is missing (a rebuild in progress?): waiting\n`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  // A rebuild writes many files: give it a moment to finish once main.js is back.
  if (said) await new Promise((resolve) => setTimeout(resolve, 3000));
  if (script === SERVICE_MAIN) builds.add(statSync(script).mtime.toISOString());
}

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** One plain HTTP request; resolves with status, headers and body text. Never keeps the socket. */
export function httpCall(url, { method = 'GET', headers = {}, body, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Spawns `node [nodeArgs] script` on a free loopback port (and a second one as `METRICS_PORT`, where
 * the service serves `/metrics`) and waits for `readyPath` to answer 200.
 * stdout goes to `logFile` (or nowhere): the service logs a line per request, and reading that
 * stream here would steal CPU from the load generator on a 2-core machine.
 * With `cgroup` (a cgroup v1 directory), the process is in it from its first instruction: a shell
 * writes its own pid to `cgroup.procs`, then execs node.
 * @returns the handle, with `startMs`: spawn to first 200, measured from just before `spawn`.
 */
export async function startProcess({ name, script, env = {}, nodeArgs = [], readyPath = '/health', logFile, readyTimeoutMs = 120_000, pollMs = 5, cgroup }) {
  await waitForBuild(script);
  const port = await freePort();
  const metricsPort = await freePort();
  const out = logFile ? openSync(logFile, 'w') : 'ignore';
  let stderr = '';
  const started = performance.now();
  const launchArgs = script === `${ROOT}dist/main.js` ? [LAUNCHER, 'service'] : script === SHOUTCLOUD_MAIN ? [LAUNCHER, 'shoutcloud-server'] : [script];
  const argv = [process.execPath, ...nodeArgs, ...launchArgs];
  const [command, ...commandArgs] = cgroup ? ['sh', '-c', 'echo $$ > "$CGROUP_PROCS" && exec "$@"', 'sh', ...argv] : argv;
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort), ...(cgroup ? { CGROUP_PROCS: `${cgroup}/cgroup.procs` } : {}), ...env },
    stdio: ['ignore', out, 'pipe'],
  });
  if (typeof out === 'number') closeSync(out);
  live.add(child);
  child.stderr.on('data', (chunk) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString();
  });
  let stopping = false;
  const exited = once(child, 'exit').then(([code, signal]) => {
    live.delete(child);
    if (!stopping) died.push(`${name} (pid ${child.pid}): ${signal ? `signal ${signal}` : `code ${code}`}${stderr ? `, stderr: ${stderr.slice(-500)}` : ''}`);
    return { code, signal };
  });
  const url = `http://127.0.0.1:${port}`;
  const describeFailure = () => {
    const log = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '';
    return `${stderr}${log}`.trim() || '(no output)';
  };

  const deadline = started + readyTimeoutMs;
  let startMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${describeFailure()}`);
    }
    try {
      const { status } = await httpCall(`${url}${readyPath}`, { timeoutMs: 2000 });
      if (status === 200) {
        startMs = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      stopping = true;
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer ${readyPath} 200 within ${readyTimeoutMs} ms:\n${describeFailure()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }

  // A build from before the metrics port serves /metrics on its API port.
  const ownMetricsPort = await httpCall(`http://127.0.0.1:${metricsPort}/metrics`, { timeoutMs: 2000 }).then(
    () => true,
    () => false,
  );
  return {
    name,
    url,
    /** Where the service serves `/metrics`. */
    metricsUrl: ownMetricsPort ? `http://127.0.0.1:${metricsPort}` : url,
    pid: child.pid,
    startMs,
    child,
    stderr: () => stderr,
    /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
    async stop(graceMs = 10_000) {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Resident set size of a process in MiB, from /proc (Linux) or `ps`. */
export async function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    if (Number.isFinite(kib)) return kib / 1024;
  } catch {
    // not Linux: fall back to ps
  }
  const ps = spawn('ps', ['-o', 'rss=', '-p', String(pid)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  ps.stdout.on('data', (chunk) => (text += chunk));
  await once(ps, 'exit');
  return Number(text.trim()) / 1024;
}

/** Control API of the Shoutcloud-compatible server (started with SHOUTCLOUD_SERVER_CONTROL=on). */
export function shoutcloudControl(url) {
  const call = async (method, path, body) => {
    const res = await httpCall(`${url}/__control/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`Shoutcloud control ${method} ${path}: ${res.status} ${res.text}`);
    return JSON.parse(res.text);
  };
  return {
    reset: () => call('POST', 'reset'),
    /** Every upstream request gets this latency until changed; 0 clears the faults. */
    setLatency: (latencyMs) => call('PUT', 'faults', latencyMs > 0 ? [{ latencyMs }] : []),
    requests: async () => (await call('GET', 'stats')).requests,
  };
}
