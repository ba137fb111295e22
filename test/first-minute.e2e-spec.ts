import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from './support/app-process.js';

// What a new user meets when starting the service: each entry point is run as `npm start`, the
// README and the image run it, and the process is the subject, so each is a child process.

const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));
const ENTRY_POINTS = {
  'dist/main.js (the API)': dist('main.js'),
  'dist/shoutcloud-server/main.js (the bundled server)': dist('shoutcloud-server/main.js'),
  'dist/shoutcloud-server/start-local.js (npm start)': dist('shoutcloud-server/start-local.js'),
};

// Loaded before the entry point (node --import): this Node then calls itself 20.11.0.
const AS_NODE_20 = `data:text/javascript,${encodeURIComponent(
  "Object.defineProperty(process, 'version', { value: 'v20.11.0' }); Object.defineProperty(process.versions, 'node', { value: '20.11.0' });",
)}`;

interface Run {
  child: ReturnType<typeof spawn>;
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

function run(file: string, env: Record<string, string>, nodeOptions: string[] = []): Run {
  const child = spawn(process.execPath, [...nodeOptions, file], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let [stdout, stderr] = ['', ''];
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

// A start on a loaded machine (other suites, other processes) can take many seconds: a bound
// against a hang, not a measure.
const START_MS = 60_000;

/** Waits for the JSON log line whose message starts with `prefix`, while the process runs. */
async function logLine(process_: Run, prefix: string): Promise<string> {
  for (const deadline = Date.now() + START_MS; Date.now() < deadline; ) {
    const line = process_
      .stdout()
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .map((text) => JSON.parse(text) as { msg?: string })
      .find((entry) => entry.msg?.startsWith(prefix));
    if (line) return line.msg!;
    if (process_.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no log line starting "${prefix}":\n${process_.stdout()}${process_.stderr()}`);
}

async function stop(process_: Run): Promise<void> {
  if (process_.child.exitCode === null && process_.child.signalCode === null) process_.child.kill('SIGTERM');
  await process_.exited;
}

describe('on another Node major', () => {
  it.each(Object.entries(ENTRY_POINTS))('%s stops at once with one line naming Node 24 and .nvmrc', async (_name, file) => {
    const started = run(file, { PORT: String(await freePort()) }, ['--import', AS_NODE_20]);
    expect(await started.exited).toBe(1);
    expect(started.stderr()).toMatch(/^[\w -]+: needs Node 24 \(the exact version is in \.nvmrc\), and this is Node v20\.11\.0; [^\n]*\.nvmrc\n$/);
    expect(started.stdout()).toBe('');
  }, START_MS);
});

describe('on a port already taken', () => {
  let holder: Server;
  let port: number;
  beforeAll(async () => {
    holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    port = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise((resolve) => holder.close(resolve)));

  it.each([
    ['dist/main.js (the API)', 'PORT', ENTRY_POINTS['dist/main.js (the API)'], { LOG_LEVEL: 'warn' }],
    ['dist/shoutcloud-server/main.js', 'PORT', ENTRY_POINTS['dist/shoutcloud-server/main.js (the bundled server)'], {}],
    ['npm start, its bundled server', 'SHOUTCLOUD_SERVER_PORT', ENTRY_POINTS['dist/shoutcloud-server/start-local.js (npm start)'], {}],
  ] as const)('%s exits 1 with one line naming the port and %s, and no stack', async (_name, variable, file, env) => {
    const started = run(file, { HOST: '127.0.0.1', [variable]: String(port), ...env });
    expect(await started.exited).toBe(1);
    expect(started.stderr()).toBe(`${started.stderr().split(':')[0]}: port ${port} on 127.0.0.1 is already in use (another copy running?); stop it, or set ${variable} to a free port\n`);
    expect(started.stdout()).not.toMatch(/\n\s+at /);
  }, START_MS);
});

describe('npm start', () => {
  it('listens on 127.0.0.1 unless HOST says otherwise, and its start-up line names the /docs URL', async () => {
    const port = await freePort();
    const started = run(ENTRY_POINTS['dist/shoutcloud-server/start-local.js (npm start)'], { PORT: String(port), LOG_FORMAT: 'json' });
    try {
      const line = await logLine(started, 'transform-api listening');
      expect(line).toMatch(new RegExp(`^transform-api listening on 127\\.0\\.0\\.1:${port}, API docs at http://127\\.0\\.0\\.1:${port}/docs, `));
      const docs = await fetch(`http://127.0.0.1:${port}/docs`);
      expect(docs.status).toBe(200);
    } finally {
      await stop(started);
    }
  }, START_MS + 10_000);

  it('with HOST=0.0.0.0 listens on every interface, and names the docs at localhost', async () => {
    const port = await freePort();
    const started = run(ENTRY_POINTS['dist/shoutcloud-server/start-local.js (npm start)'], { PORT: String(port), HOST: '0.0.0.0', LOG_FORMAT: 'json' });
    try {
      const line = await logLine(started, 'transform-api listening');
      expect(line).toMatch(new RegExp(`^transform-api listening on 0\\.0\\.0\\.0:${port}, API docs at http://localhost:${port}/docs, `));
    } finally {
      await stop(started);
    }
  }, START_MS + 10_000);
});
