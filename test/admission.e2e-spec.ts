import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { testAppWithUpstream } from './support/app.js';
import { startApp, type AppProcess } from './support/app-process.js';
import { postJson, send } from './support/http.js';

// What one replica holds is bounded whatever arrives: requests in flight, the bytes of their
// bodies, connections, and the answers a client leaves unread.

/**
 * Writes `count` pipelined `GET /docs-json` on one connection and reads nothing for a second; then
 * reads what the server left, until it closes the connection. Resolves with the answers read.
 */
async function pipelineWithoutReading(url: string, count: number): Promise<number> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.pause();
  socket.write('GET /docs-json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(count));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.resume();
  await once(socket, 'close');
  return text.split('HTTP/1.1 200').length - 1;
}

describe('admission, in process', () => {
  const running = testAppWithUpstream({ MAX_REQUESTS_IN_FLIGHT: '2' });

  it('past the requests in flight: a 503 with Retry-After in the API shape, at once; the probes still answer', async () => {
    running.upstream.setFaults({ latencyMs: 400 });
    const held = [postJson(running.app.url, '/transform', { data: 'held one' }), postJson(running.app.url, '/transform', { data: 'held two' })];
    while (running.upstream.requests < 1) await new Promise((resolve) => setImmediate(resolve));
    const refused = await postJson(running.app.url, '/transform', { data: 'third' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['content-type']).toBe('application/json');
    expect(refused.headers['x-request-id']).toEqual(expect.any(String));
    expect(refused.json()).toEqual({ statusCode: 503, error: expect.stringContaining('as many requests as it can') });
    expect((await send(running.app.url, 'GET', '/health/live')).status).toBe(200);
    expect((await send(running.app.url, 'GET', '/health')).status).toBe(200);
    expect((await Promise.all(held)).map((answer) => answer.status)).toEqual([200, 200]);
    running.upstream.setFaults();
    expect((await postJson(running.app.url, '/transform', { data: 'after' })).status).toBe(200);
  });

  it('a client that pipelines requests and reads no answer is cut off', async () => {
    const answers = await pipelineWithoutReading(running.app.url, 200);
    expect(answers).toBeLessThanOrEqual(16);
    expect((await send(running.app.url, 'GET', '/health/live')).status).toBe(200);
  });
});

describe('admission by body bytes, in process', () => {
  const running = testAppWithUpstream({ MAX_BODY_BYTES_IN_FLIGHT: '4096' });

  it('past the body bytes in flight: refused from the headers, before the body is read', async () => {
    const { port } = new URL(running.app.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    // 5,000 bytes declared, 10 sent: the answer cannot wait for the body.
    socket.write('POST /transform HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"data":"x');
    await once(socket, 'close');
    expect(text).toMatch(/^HTTP\/1\.1 503 /);
    expect(text).toContain('retry-after: 1');
    expect(text).toContain('connection: close');
  });

});

/** Peak RSS of a process and how its liveness probe fared, sampled while `flood` runs. */
async function watch(app: AppProcess, flood: () => Promise<void>) {
  const pid = app.child.pid!;
  // 0 once the process is gone: `alive` says so.
  const rssMiB = () => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  let peakMiB = rssMiB();
  // As Kubernetes judges liveness: a probe has 1 s, and 3 failures in a row restart the pod.
  const probes = { answered: 0, failed: 0, mostFailedInARow: 0 };
  let failedInARow = 0;
  let flooding = true;
  const sampler = (async () => {
    while (flooding) {
      peakMiB = Math.max(peakMiB, rssMiB());
      // A Kubernetes probe: one second to answer.
      const ok = await fetch(`${app.url}/health/live`, { signal: AbortSignal.timeout(1000) }).then(
        (response) => response.ok,
        () => false,
      );
      probes[ok ? 'answered' : 'failed']++;
      failedInARow = ok ? 0 : failedInARow + 1;
      probes.mostFailedInARow = Math.max(probes.mostFailedInARow, failedInARow);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    await flood();
  } finally {
    flooding = false;
    await sampler;
  }
  return { peakMiB, probes, alive: app.child.exitCode === null && app.child.signalCode === null };
}

describe('floods against a process with the pod heap', () => {
  // The pod: a 512 MiB limit, V8's old space at half of it.
  const POD_MEMORY_MIB = 512;
  let upstream: ShoutcloudServer;
  let app: AppProcess;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    app = await startApp({ SHOUTCLOUD_URL: upstream.url, LOG_LEVEL: 'warn', NODE_OPTIONS: '--max-old-space-size=256', MAX_EVENT_LOOP_DELAY_MS: '200' });
  });
  afterAll(async () => {
    await app?.stop();
    await upstream?.close();
  });

  const expectCalm = (seen: Awaited<ReturnType<typeof watch>>) => {
    expect(seen.alive).toBe(true);
    expect(seen.peakMiB).toBeLessThan(POD_MEMORY_MIB * 0.9);
    expect(seen.probes.mostFailedInARow).toBeLessThan(3);
    expect(seen.probes.answered).toBeGreaterThan(0);
  };

  it('1,000 concurrent batches of 100 new 1,300-character texts (128 MB)', async () => {
    let outcomes: Record<string, number> = {};
    const seen = await watch(app, async () => {
      const flood = spawn(process.execPath, [fileURLToPath(new URL('./support/batch-flood.mjs', import.meta.url)), app.url]);
      let printed = '';
      flood.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      await once(flood, 'exit');
      outcomes = JSON.parse(printed) as Record<string, number>;
    });
    process.stdout.write(`batch flood: ${JSON.stringify({ ...seen, outcomes })}\n`);
    expectCalm(seen);
    // Admitted batches are answered, or 504 past the request's deadline on a saturated machine.
    expect(Object.keys(outcomes).filter((key) => !['200', '503', '504', 'reset'].includes(key))).toEqual([]);
    expect(outcomes['200']).toBeGreaterThan(0);
  }, 120_000);

  it('10 connections each pipelining 1,820 GET /docs-json and reading nothing', async () => {
    let answers: number[] = [];
    const seen = await watch(app, async () => {
      answers = await Promise.all(Array.from({ length: 10 }, () => pipelineWithoutReading(app.url, 1820)));
    });
    process.stdout.write(`pipelining flood: ${JSON.stringify({ ...seen, answers })}\n`);
    expectCalm(seen);
    for (const read of answers) expect(read).toBeLessThanOrEqual(16);
  }, 120_000);

  it('3,000 connections each holding a 131,072-byte body one byte short', async () => {
    const { port } = new URL(app.url);
    const head = 'POST /transform HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 131072\r\n\r\n';
    const almost = Buffer.from(head + `{"data":"${'z'.repeat(131_072 - 12)}`);
    const sockets: Socket[] = [];
    const seen = await watch(app, async () => {
      for (let i = 0; i < 3000; i++) {
        const socket = connect(Number(port), '127.0.0.1');
        socket.on('error', () => undefined);
        sockets.push(socket);
        socket.write(almost);
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
      }
      // Held for a while, as the attack holds them for the whole request timeout.
      await new Promise((resolve) => setTimeout(resolve, 5000));
    });
    for (const socket of sockets) socket.destroy();
    process.stdout.write(`held bodies: ${JSON.stringify(seen)}\n`);
    expectCalm(seen);
  }, 120_000);
});
