import { createClient, type RedisClientType } from '@keyv/redis';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { freePortOutsideEphemeralRange, startApp, startApps, type AppProcess } from './support/app-process.js';
import { postJson, send, type RawResponse } from './support/http.js';
import { clientIp, eventually, sharedHit, sharedLimit as sharedLimitOf, sleep, unique } from './support/redis-servers.js';

// A primary, a replica and three Sentinels of this test's own on loopback (`redis-server`, and
// `redis-server --sentinel`); REDIS_URL only says this machine has Redis to test with.
if (!process.env.REDIS_URL) {
  process.stdout.write('SKIPPED test/redis-sentinel.e2e-spec.ts: REDIS_URL is unset, so a Redis failover through Sentinel is not tested\n');
}
const describeWithRedis = process.env.REDIS_URL ? describe : describe.skip;

const MASTER = 'e2e-primary';
const REDIS_TIMEOUT_MS = 200;
const SHOUT_KEYS = 'transform-api:shout:*';
// Sentinel's own timings, short for a test: subjectively down after 1 s without an answer.
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 3000;
const RATE_LIMIT = 4;
const sharedLimit = (first: AppProcess, second: AppProcess) => sharedLimitOf(first, second, RATE_LIMIT);

/** Every process and directory this file starts or makes, ended in afterAll whatever happened. */
const processes = new Set<ChildProcess>();
const servers: Server[] = [];
const directories: string[] = [];

interface Server {
  readonly port: number;
  readonly address: string;
  readonly child: ChildProcess;
  admin: RedisClientType;
  output(): string;
}

/** Starts `redis-server` with `args` and waits for its ready line; `--sentinel` mode when `conf` is given. */
async function startRedisServer(port: number, args: string[], ready: RegExp): Promise<Server> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  processes.add(child);
  child.once('exit', () => processes.delete(child));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server ${args.join(' ')} exited with ${code}:\n${output}`)));
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve();
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
  });
  // Named, so the check that the apps never connect to a node can tell this connection apart;
  // reconnecting, since Sentinel ends every client connection of a node whose role it changes.
  const admin = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: 50 }, name: 'e2e-admin' }) as RedisClientType;
  admin.on('error', () => undefined);
  await admin.connect();
  const server = { port, address: `127.0.0.1:${port}`, child, admin, output: () => output };
  servers.push(server);
  return server;
}

function startNode(port: number, replicaOf?: number): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-redis-'));
  directories.push(dir);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  // Diskless and at once: the replica is in sync a moment after it starts.
  args.push('--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0');
  if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
  return startRedisServer(port, args, /Ready to accept connections/);
}

function startSentinel(port: number, primaryPort: number, name = MASTER, quorum = 2): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-sentinel-'));
  directories.push(dir);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} ${quorum}`,
      `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${name} ${FAILOVER_TIMEOUT_MS}`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  return startRedisServer(port, [conf, '--sentinel'], /Sentinel ID is|monitor master/);
}

/** A SENTINEL command's flat reply (RESP2 arrays of field, value) as a record. */
const fields = (reply: unknown): Record<string, string> => {
  const list = reply as string[];
  return Object.fromEntries(list.flatMap((value, index) => (index % 2 === 0 ? [[value, list[index + 1]]] : [])));
};

interface RedisHealth {
  via?: string;
  primary?: string | null;
  sentinelMaster?: string;
  failovers?: number;
  connected: boolean;
  breaker?: string;
  silentSentinels?: string[];
}
const health = async (app: AppProcess) => (await send(app.metricsUrl, 'GET', '/health')).json<{ details: { redis: RedisHealth } }>().details.redis;

const logLines = (app: AppProcess) => app.logLines() as Array<{ level: string; msg: string; time: string }>;

async function shoutKeys(node: Server): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const batch of node.admin.scanIterator({ MATCH: SHOUT_KEYS, COUNT: 1000 })) for (const key of batch) keys.add(key);
  return keys;
}

interface Answer {
  app: string;
  status: number;
  cache: string | undefined;
  at: number;
  ms: number;
}

/**
 * Steady mixed load on each app until stopped: `workers` loops per app, each posting either a
 * text this app answered before (a hit) or a new one, every request from a client address of its own.
 */
function startLoad(apps: Record<string, AppProcess>, workers = 2) {
  const answers: Answer[] = [];
  const newInputs: Array<{ app: string; data: string; at: number }> = [];
  let running = true;
  const loops = Object.entries(apps).flatMap(([name, app]) => {
    const seen: string[] = [];
    return Array.from({ length: workers }, async () => {
      // Bounded in count and time whatever happens to `running`.
      const deadline = Date.now() + 60_000;
      for (let i = 0; running && i < 20_000 && Date.now() < deadline; i++) {
        const fresh = seen.length < 5 || Math.random() < 0.3;
        const data = fresh ? unique(`load-${name}`) : seen[Math.floor(Math.random() * seen.length)];
        const started = Date.now();
        let response: RawResponse | undefined;
        try {
          response = await postJson(app.url, '/transform', { data }, clientIp());
        } catch {
          // counted as status 0 below
        }
        const at = Date.now();
        answers.push({ app: name, status: response?.status ?? 0, cache: response?.headers['x-cache'] as string | undefined, at, ms: at - started });
        if (fresh && response?.status === 200) {
          seen.push(data);
          newInputs.push({ app: name, data, at });
        }
        await sleep(5);
      }
    });
  });
  return {
    answers,
    newInputs,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Every Sentinel knows the two others, and `replica` as the one replica of `primary`, in sync. */
async function readyForFailover(sentinels: Server[], primary: Server, replica: Server): Promise<void> {
  await eventually(
    async () => {
      for (const sentinel of sentinels) {
        const named = (await sentinel.admin.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER])) as string[];
        const others = (await sentinel.admin.sendCommand(['SENTINEL', 'SENTINELS', MASTER])) as unknown[];
        const replicas = ((await sentinel.admin.sendCommand(['SENTINEL', 'REPLICAS', MASTER])) as unknown[]).map(fields);
        const ok =
          named.join(':') === primary.address &&
          others.length === 2 &&
          replicas.length === 1 &&
          `${replicas[0].ip}:${replicas[0].port}` === replica.address &&
          replicas[0].flags === 'slave' &&
          replicas[0]['master-link-status'] === 'ok';
        if (!ok) return false;
      }
      return true;
    },
    `every Sentinel sees ${primary.address} with ${replica.address} in sync`,
    30_000,
  );
}

interface FailoverRun {
  /** When the primary was stopped (epoch ms). */
  failedAt: number;
  promotionMs: number;
  sharedBackMs: number;
  limitBackMs: number;
  answers: Answer[];
  during: Answer[];
  probes: number[];
  switched: string;
  newSince: Set<string>;
  added: string[];
}

/**
 * Steady load on both apps, then the primary is killed (SIGKILL) or hung (SIGSTOP); from the
 * first `+switch-master` any Sentinel announces, a new text at A then at B until B answers it
 * from the shared tier, and one client alternating between them until the limit is shared.
 */
async function failoverUnderLoad(sentinels: Server[], a: AppProcess, b: AppProcess, from: Server, to: Server, signal: 'SIGKILL' | 'SIGSTOP'): Promise<FailoverRun> {
  const listeners = sentinels.map((sentinel) => createClient({ socket: { host: '127.0.0.1', port: sentinel.port } }) as RedisClientType);
  let promotedAt = 0;
  let switched = '';
  try {
    for (const listener of listeners) {
      await listener.connect();
      await listener.subscribe('+switch-master', (message) => {
        if (promotedAt) return;
        promotedAt = Date.now();
        switched = message;
      });
    }
    const load = startLoad({ a, b });
    await sleep(1500);
    const failedAt = Date.now();
    from.child.kill(signal);
    await eventually(async () => promotedAt > 0, '+switch-master from the Sentinels', 30_000);
    const keysAtPromotion = await shoutKeys(to);

    let sharedBackAt = 0;
    let limitBackAt = 0;
    const probes: number[] = [];
    const deadline = promotedAt + 15_000;
    while ((!sharedBackAt || !limitBackAt) && Date.now() < deadline) {
      if (!sharedBackAt) {
        const shared = await sharedHit(a, b);
        probes.push(...shared.statuses);
        if (shared.ok) sharedBackAt = Date.now();
      }
      if (!limitBackAt) {
        const limit = await sharedLimit(a, b);
        probes.push(...limit.statuses.slice(0, RATE_LIMIT));
        if (limit.ok) limitBackAt = Date.now();
      }
      await sleep(50);
    }
    // Load goes on a little past the recovery, then stops.
    await sleep(1000);
    await load.stop();
    const keysAfter = await shoutKeys(to);
    return {
      failedAt,
      promotionMs: promotedAt - failedAt,
      sharedBackMs: sharedBackAt ? sharedBackAt - promotedAt : Number.POSITIVE_INFINITY,
      limitBackMs: limitBackAt ? limitBackAt - promotedAt : Number.POSITIVE_INFINITY,
      answers: load.answers,
      during: load.answers.filter((answer) => answer.at >= failedAt && answer.at <= (sharedBackAt || Date.now())),
      probes,
      switched,
      newSince: new Set(load.newInputs.filter((input) => sharedBackAt && input.at > sharedBackAt).map((input) => input.data)),
      added: [...keysAfter].filter((key) => !keysAtPromotion.has(key)),
    };
  } finally {
    for (const listener of listeners) await listener.close().catch(() => listener.destroy());
  }
}

function report(label: string, run: FailoverRun): void {
  const notOk = run.answers.filter((answer) => answer.status !== 200).length;
  process.stdout.write(
    `redis-sentinel (${label}): promoted by the Sentinels ${run.promotionMs} ms after it (${run.switched}); ` +
      `shared tier back ${run.sharedBackMs} ms and shared rate limit ${run.limitBackMs} ms after the promotion; ` +
      `${run.answers.length} load answers in all, ${run.during.length} between the failure and the shared tier's return, ` +
      `${notOk} not 200; slowest answer ${Math.max(...run.answers.map((answer) => answer.ms))} ms\n`,
  );
}

/** The failover's marks in an app: /health, the metric, and one warn line per failover. */
async function expectFailoversSeen(app: AppProcess, moves: Array<[Server, Server]>): Promise<void> {
  const [, current] = moves.at(-1)!;
  expect(await health(app)).toMatchObject({ via: 'sentinel', primary: current.address, failovers: moves.length, connected: true, breaker: 'closed' });
  expect((await send(app.metricsUrl, 'GET', '/metrics')).text).toMatch(new RegExp(`^redis_failovers_total ${moves.length}$`, 'm'));
  expect(logLines(app).filter((line) => line.msg.startsWith('Redis failover'))).toEqual(
    moves.map(([from, to]) => expect.objectContaining({ level: 'warn', msg: expect.stringContaining(`from ${from.address} to ${to.address}`) })),
  );
}

function expectNothingLost(run: FailoverRun, from: Server, to: Server): void {
  expect(run.answers.filter((answer) => answer.status !== 200)).toEqual([]);
  expect(run.probes.every((status) => status === 200)).toBe(true);
  expect(run.during.length).toBeGreaterThan(0);
  expect(run.switched).toBe(`${MASTER} 127.0.0.1 ${from.port} 127.0.0.1 ${to.port}`);
  expect(run.sharedBackMs).toBeLessThan(5000);
  expect(run.limitBackMs).toBeLessThan(5000);
  // The texts first answered after the shared tier was back are keys on the new primary.
  expect(run.newSince.size).toBeGreaterThan(0);
  expect(run.added.length).toBeGreaterThanOrEqual(run.newSince.size);
}

describeWithRedis('Redis through Sentinel: a failover under load costs requests nothing', () => {
  let upstream: ShoutcloudServer;
  let primary: Server;
  let replica: Server;
  /** The first primary, started again after it was killed: a replica of `replica`. */
  let returned: Server;
  let sentinels: Server[] = [];
  let a: AppProcess;
  let b: AppProcess;
  const apps: AppProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    // Outside the ephemeral range: a killed node comes back on its port later in this file.
    const [primaryPort, replicaPort, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, () => freePortOutsideEphemeralRange()));
    primary = await startNode(primaryPort);
    replica = await startNode(replicaPort, primaryPort);
    sentinels = await Promise.all(sentinelPorts.map((port) => startSentinel(port, primaryPort)));
    await readyForFailover(sentinels, primary, replica);

    env = {
      SHOUTCLOUD_URL: upstream.url,
      REDIS_SENTINELS: sentinels.map((s) => s.address).join(','),
      REDIS_SENTINEL_MASTER: MASTER,
      REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      TRUST_PROXY_HOPS: '1',
      // One upstream call per new text, so the calls can be counted.
      SHOUTCLOUD_HEDGE: 'off',
    };
    [a, b] = await startApps(2, env);
    apps.push(a, b);
    const sharing = async (app: AppProcess) => {
      const redis = await health(app);
      return redis.connected && redis.primary === primary.address;
    };
    await eventually(async () => (await sharing(a)) && (await sharing(b)), 'both apps on the primary');
    // The rate limit is shared once each app knows the server's version.
    await eventually(async () => (await sharedLimit(a, b)).ok, 'the rate limit shared before the failover');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop('SIGKILL')));
    for (const server of servers) if (server.admin.isOpen) server.admin.destroy();
    for (const child of processes) {
      // A paused process gets SIGKILL all the same; SIGCONT first lets it go at once.
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await Promise.all([...processes].map((child) => (child.exitCode === null && child.signalCode === null ? once(child, 'exit') : undefined)));
    await upstream?.close();
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });

  it('shares the tier and the rate limit through the primary the Sentinels name, and /health says how', async () => {
    for (const app of [a, b]) {
      expect(await health(app)).toMatchObject({
        via: 'sentinel',
        primary: primary.address,
        sentinelMaster: MASTER,
        failovers: 0,
        connected: true,
        breaker: 'closed',
      });
    }
    expect(await sharedHit(a, b)).toEqual({ ok: true, statuses: [200, 200] });
  });

  it('SIGKILL of the primary under load: every answer 200, shared again within 5 s of the promotion, on the new primary', async () => {
    const run = await failoverUnderLoad(sentinels, a, b, primary, replica, 'SIGKILL');
    report('primary killed', run);
    expectNothingLost(run, primary, replica);
    expect(await replica.admin.info('replication')).toMatch(/^role:master/m);
    for (const app of [a, b]) {
      await expectFailoversSeen(app, [[primary, replica]]);
      // The outage itself: one line when the primary's connection went, one when Redis was back
      // (a blip of the first connection on a loaded machine, before the kill, is not this outage).
      const sinceFailure = logLines(app).filter((line) => Date.parse(line.time) >= run.failedAt);
      expect(sinceFailure.filter((line) => /^Redis (unreachable|is back)/.test(line.msg))).toEqual([
        expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/^Redis unreachable/) }),
        expect.objectContaining({ level: 'info', msg: `Redis is back (primary ${replica.address}); the shared cache tier is on again` }),
      ]);
    }
  }, 90_000);

  it('the old primary back (empty, and turned into a replica by the Sentinels) is never connected to or written to', async () => {
    returned = await startNode(primary.port);
    const load = startLoad({ a, b }, 1);
    const strangers = new Set<string>();
    const look = async () => {
      // Every connection but this test's own and the Sentinels' (which send no CLIENT SETINFO).
      const list = (await returned.admin.sendCommand(['CLIENT', 'LIST'])) as string;
      for (const line of list.split('\n')) if (line.includes('lib-name=node-redis') && !line.includes('name=e2e-admin')) strangers.add(line);
    };
    try {
      await readyForFailover(sentinels, replica, returned);
      // Load goes on against the new primary for a while after.
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        await look();
        await sleep(50);
      }
    } finally {
      await load.stop();
    }
    expect([...strangers]).toEqual([]);
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(await sharedHit(a, b)).toEqual({ ok: true, statuses: [200, 200] });
    for (const app of [a, b]) expect(await health(app)).toMatchObject({ primary: replica.address, failovers: 1 });
  }, 60_000);

  it('the primary hung (SIGSTOP, its connections left open) under load: the apps follow the Sentinels to the new one all the same', async () => {
    try {
      const run = await failoverUnderLoad(sentinels, a, b, replica, returned, 'SIGSTOP');
      report('primary hung', run);
      expectNothingLost(run, replica, returned);
      for (const app of [a, b]) await expectFailoversSeen(app, [[primary, replica], [replica, returned]]);
    } finally {
      replica.child.kill('SIGCONT');
    }
  }, 90_000);

  it('every Sentinel paused (SIGSTOP): the primary still answers, so the tier and the rate limit stay shared', async () => {
    for (const sentinel of sentinels) sentinel.child.kill('SIGSTOP');
    const results: Array<{ ok: boolean; statuses: number[] }> = [];
    try {
      // Longer than a round of asking three Sentinels that do not answer.
      const until = Date.now() + 4000;
      while (Date.now() < until) results.push(await sharedHit(a, b), await sharedLimit(a, b));
      for (const app of [a, b]) {
        expect(await health(app)).toMatchObject({ primary: returned.address, connected: true, breaker: 'closed', silentSentinels: sentinels.map((s) => s.address) });
      }
    } finally {
      for (const sentinel of sentinels) sentinel.child.kill('SIGCONT');
    }
    expect(results.length).toBeGreaterThanOrEqual(4);
    // Nothing waited on the Sentinels: a command held while they are asked would run out of its budget.
    expect(results.filter((result) => !result.ok)).toEqual([]);
    await eventually(async () => (await health(a)).silentSentinels === undefined, 'the Sentinels answering again', 10_000);
  }, 60_000);

  it('Sentinels unreachable at start-up: the API starts and serves without Redis, and joins when they come', async () => {
    const port = await freePortOutsideEphemeralRange();
    const late = await startApp({ ...env, REDIS_SENTINELS: `127.0.0.1:${port}`, REDIS_SENTINEL_MASTER: 'late' });
    apps.push(late);
    const answered = await postJson(late.url, '/transform', { data: unique('alone') }, clientIp());
    expect(answered.status).toBe(200);
    expect(await health(late)).toMatchObject({ via: 'sentinel', primary: null, connected: false });

    const sentinel = await startSentinel(port, returned.port, 'late', 1);
    sentinels.push(sentinel);
    await eventually(async () => (await health(late)).connected, 'the late app on the primary', 30_000);
    expect(await health(late)).toMatchObject({ primary: returned.address, failovers: 0, breaker: 'closed' });
    // It shares the tier with the apps that were there all along.
    expect(await sharedHit(late, a)).toEqual({ ok: true, statuses: [200, 200] });
  }, 60_000);
});
