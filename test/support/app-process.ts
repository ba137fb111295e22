import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** The production build of the API, running as its own process on loopback. */
export interface AppProcess {
  readonly url: string;
  readonly port: number;
  /** The operators' port: `/metrics`, and `/health` with every detail. */
  readonly metricsUrl: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A free port below the kernel's ephemeral range, for a server that lets its port go and takes it
 * again (a restart). A port from `freePort` is in the ephemeral range, where another test's
 * outgoing connection or `listen(0)` can take it in that moment: the restart then meets EADDRINUSE.
 */
export async function freePortOutsideEphemeralRange(): Promise<number> {
  const [lowest] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (;;) {
    const candidate = 10_000 + Math.floor(Math.random() * (lowest - 10_000));
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    server.close();
    await once(server, 'close');
    return candidate;
  }
}

/** `node dist/main.js` with only PATH and `env` in its environment, its output collected. */
function spawnMain(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => output };
}

const START_TIMEOUT_MS = 25_000;

/**
 * Starts `node dist/main.js` (run `npm run build` first; `npm test` does) with the given
 * environment on a free loopback port, and waits until `/health/live` answers. No shedding on event-loop delay unless `env` sets
 * `MAX_EVENT_LOOP_DELAY_MS`: on a test machine running several suites at once the delay says how
 * the machine is shared, not how busy the process is.
 */
export async function startApp(env: Record<string, string | undefined> = {}): Promise<AppProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const { child, exited, output: read } = spawnMain({ HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort), METRICS_CACHE_MS: '0', MAX_EVENT_LOOP_DELAY_MS: '0', LOG_LEVEL: 'info', ...env });
  const url = `http://127.0.0.1:${port}`;

  // A bound for a loaded machine: a fresh CI run starts its first processes beside a build, a
  // benchmark and floods. Under jest's test timeout (30 s), so a failure says what did not happen.
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`app exited with ${child.exitCode} before it was ready:\n${read()}`);
    try {
      const response = await fetch(`${url}/health/live`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`app did not become ready in ${START_TIMEOUT_MS / 1000} s:\n${read()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    url,
    port,
    metricsUrl: `http://127.0.0.1:${env.METRICS_PORT ?? metricsPort}`,
    child,
    output: read,
    logLines: () =>
      read()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Starts several replicas with the same environment. If one fails to start, the others are stopped
 * before the error is passed on, so no process outlives the test and keeps jest from exiting.
 */
export async function startApps(count: number, env: Record<string, string | undefined> = {}): Promise<AppProcess[]> {
  const starts = await Promise.allSettled(Array.from({ length: count }, () => startApp(env)));
  const failure = starts.find((start) => start.status === 'rejected');
  if (!failure) return starts.map((start) => (start as PromiseFulfilledResult<AppProcess>).value);
  await Promise.all(starts.map((start) => (start.status === 'fulfilled' ? start.value.stop() : undefined)));
  throw failure.reason;
}

/** Runs a command-line start of the app that is expected to fail, and returns its exit and output. */
export async function runAppExpectingExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { exited, output } = spawnMain(env);
  return { code: await exited, output: output() };
}
