import { createClient, type RedisClientType } from '@keyv/redis';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortOutsideEphemeralRange, type AppProcess } from './app-process.js';
import { postJson, send } from './http.js';

/** A `redis-server` process of a test's own on loopback, with an admin connection to it. */
export interface RedisServer {
  readonly port: number;
  readonly address: string;
  readonly child: ChildProcess;
  readonly dir: string;
  admin: RedisClientType;
  output(): string;
}

/** Sentinel timings for a test: a node is subjectively down after `downAfterMs` without an answer. */
export interface SentinelTimings {
  downAfterMs: number;
  failoverTimeoutMs: number;
}

/**
 * The `redis-server` processes (nodes, Sentinels, cluster nodes) one test file starts, ended and
 * cleaned up by {@link stopAll} whatever happened.
 */
export class RedisServers {
  readonly all: RedisServer[] = [];
  private readonly processes = new Set<ChildProcess>();
  private readonly directories: string[] = [];
  private readonly listeners: NetServer[] = [];
  private readonly sockets = new Set<Socket>();

  /** Starts `redis-server` with `args` (in a directory of its own) and waits for `ready` in its output. */
  async start(port: number, args: string[], ready: RegExp, dir = this.directory('e2e-redis-')): Promise<RedisServer> {
    const requirePass = args.indexOf('--requirepass');
    const password = requirePass >= 0 ? args[requirePass + 1] : undefined;
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
    this.processes.add(child);
    child.once('exit', () => this.processes.delete(child));
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
    // Named, so a check that the apps never connect to a node can tell this connection apart;
    // reconnecting, since Sentinel ends every client connection of a node whose role it changes.
    const admin = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: 50 }, name: 'e2e-admin', password }) as RedisClientType;
    admin.on('error', () => undefined);
    await admin.connect();
    const server = { port, address: `127.0.0.1:${port}`, child, dir, admin, output: () => output };
    this.all.push(server);
    return server;
  }

  /** A Redis node without persistence; a replica of `replicaOf` when given, in sync a moment after it starts. */
  node(port: number, replicaOf?: number, extra: string[] = []): Promise<RedisServer> {
    const dir = this.directory('e2e-redis-');
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    args.push('--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', ...extra);
    if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
    return this.start(port, args, /Ready to accept connections/, dir);
  }

  /** A Sentinel (`redis-server <conf> --sentinel`) monitoring `primaryPort` as `name`. */
  sentinel(port: number, primaryPort: number, name: string, timings: SentinelTimings, quorum = 2): Promise<RedisServer> {
    const dir = this.directory('e2e-sentinel-');
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${timings.downAfterMs}`,
        `sentinel failover-timeout ${name} ${timings.failoverTimeoutMs}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    return this.start(port, [conf, '--sentinel'], /Sentinel ID is|monitor master/, dir);
  }

  /**
   * A Redis Cluster of `ports.length` nodes (three primaries, a replica each, for six), made by
   * `redis-cli --cluster create`; resolves once every node says `cluster_state:ok`. A node that
   * misses `nodeTimeoutMs` is failed over by its replica.
   */
  async cluster(ports: number[], nodeTimeoutMs: number): Promise<RedisServer[]> {
    const nodes = await Promise.all(
      ports.map((port) => this.node(port, undefined, clusterNodeArgs(nodeTimeoutMs))),
    );
    const create = spawn('redis-cli', ['--cluster', 'create', ...nodes.map((node) => node.address), '--cluster-replicas', '1', '--cluster-yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    create.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    create.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(create, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}:\n${output}`);
    await eventually(async () => {
      for (const node of nodes) if (!/^cluster_state:ok/m.test(String(await node.admin.sendCommand(['CLUSTER', 'INFO'])))) return false;
      return true;
    }, 'every cluster node says cluster_state:ok', 30_000);
    return nodes;
  }

  /** A TCP server on loopback that accepts connections and never sends a byte: a silent Redis or Sentinel. */
  async silent(): Promise<{ port: number; address: string; accepted(): number }> {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    this.listeners.push(server);
    const { port } = server.address() as { port: number };
    return { port, address: `127.0.0.1:${port}`, accepted: () => accepted };
  }

  /** Ends every process (a paused one too), admin connection and silent server, and removes the directories. */
  async stopAll(): Promise<void> {
    for (const server of this.all) if (server.admin.isOpen) server.admin.destroy();
    for (const child of this.processes) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await Promise.all([...this.processes].map((child) => (child.exitCode === null && child.signalCode === null ? once(child, 'exit') : undefined)));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.listeners.map((server) => new Promise((resolve) => server.close(resolve))));
    for (const dir of this.directories) rmSync(dir, { recursive: true, force: true });
  }

  private directory(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.directories.push(dir);
    return dir;
  }
}

/** Whether nothing listens on `port` of loopback now. */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (bound) await new Promise((resolve) => server.close(resolve));
  return bound;
}

/** A port for a cluster node: it listens there and on the port 10000 above (the cluster bus), both free. */
export async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePortOutsideEphemeralRange();
    if (port + 10_000 <= 65_535 && (await portFree(port + 10_000))) return port;
  }
}

/**
 * A cluster node's settings: failed over after `nodeTimeoutMs`; the slots of the other primaries
 * served while one is away (Redis refuses every slot by default then).
 */
export const clusterNodeArgs = (nodeTimeoutMs: number) => [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-node-timeout',
  String(nodeTimeoutMs),
  '--cluster-require-full-coverage',
  'no',
];

export const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2)}`;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Counted, not drawn: the failover tests send thousands of one-request clients, and a drawn address
// that met one of theirs started a shared-limit check one request in. A random start keeps apart
// spec files that share a Redis.
let nextClient = Math.floor(Math.random() * 2 ** 24);
/** A client address of its own (the apps trust one proxy hop), so rate-limit windows never mix. */
export const clientIp = () => {
  const n = nextClient++ % 2 ** 24;
  return { 'x-forwarded-for': `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}` };
};

/** Resolves once `check` is true; throws naming `what` after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`never happened within ${timeoutMs} ms: ${what}`);
    await sleep(50);
  }
}

/** What `/health` says under `redis`. */
export interface RedisHealth {
  via?: string;
  primary?: string | null;
  connected: boolean;
  breaker?: string;
  error?: string;
  [detail: string]: unknown;
}

/** Redis's details from the metrics port's `/health`: the public one leaves out addresses and errors. */
export const redisHealth = async (app: AppProcess): Promise<RedisHealth> =>
  (await send(app.metricsUrl, 'GET', '/health')).json<{ details: { redis: RedisHealth } }>().details.redis;

/** Answers `app` has written to the shared tier (in the background, after answering). */
async function writtenToRedis(app: AppProcess): Promise<number> {
  const metrics = (await send(app.metricsUrl, 'GET', '/metrics')).text;
  return Number(/^redis_cache_writes_total\{outcome="written"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
}

/**
 * The shared tier: a text answered by `first` is a HIT at `second`, which never saw it, once
 * `first` has written it (the answer does not wait for the write; the write is given 2 s).
 */
export async function sharedHit(first: AppProcess, second: AppProcess): Promise<{ ok: boolean; statuses: number[] }> {
  const data = unique('shared');
  const written = await writtenToRedis(first);
  const a = await postJson(first.url, '/transform', { data }, clientIp());
  for (const until = Date.now() + 2000; Date.now() < until && (await writtenToRedis(first)) === written; ) await sleep(10);
  const b = await postJson(second.url, '/transform', { data }, clientIp());
  return { ok: a.status === 200 && b.status === 200 && b.headers['x-cache'] === 'HIT', statuses: [a.status, b.status] };
}

/** The shared rate limit (`limit` a minute): one client's requests alternating between the apps are counted together. */
export async function sharedLimit(first: AppProcess, second: AppProcess, limit: number): Promise<{ ok: boolean; statuses: number[] }> {
  const client = clientIp();
  const statuses: number[] = [];
  for (let i = 0; i <= limit; i++) {
    statuses.push((await postJson((i % 2 ? second : first).url, '/transform', { data: unique('limit') }, client)).status);
  }
  const expected = [...Array(limit).fill(200), 429];
  return { ok: statuses.every((status, i) => status === expected[i]), statuses };
}
