import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { RedisClientType } from '@keyv/redis';
import { EventEmitter } from 'node:events';
import { RedisConnection, type RedisSkipReason } from './redis.connection.js';
import type { RedisNodeAddress } from './redis.config.js';
import { SentinelEndpoint } from './redis.sentinel-follower.js';
import type { SentinelAnswer } from './redis.sentinel-probe.js';

const failing = () => Promise.reject(new Error('READONLY'));

/** node-redis's client for one node, scripted: `role` is what the node answers to ROLE. */
class FakeNode extends EventEmitter {
  isReady = false;
  isOpen = false;
  role = 'master';
  constructor(readonly address: RedisNodeAddress) {
    super();
  }
  connect = jest.fn(async () => {
    this.isOpen = true;
    this.isReady = true;
    return this;
  });
  sendCommand = jest.fn(async (command: string[]) => (command[0] === 'ROLE' ? [this.role] : 'OK'));
  ping = jest.fn(async (): Promise<string> => 'PONG');
  info = jest.fn(async (): Promise<string> => '# Server\r\nredis_version:7.2.4\r\n');
  get = jest.fn(async (): Promise<string> => 'value');
  close = jest.fn(async () => this.destroy());
  destroy = jest.fn(() => {
    this.isOpen = false;
    this.isReady = false;
  });

  /** The connection lost: node-redis emits the error and, never reconnecting, closes. */
  lose(reason = 'Socket closed unexpectedly') {
    this.isReady = false;
    this.isOpen = false;
    this.emit('error', new Error(reason));
  }
}

const S0 = { host: 's0', port: 26379 };
const S1 = { host: 's1', port: 26379 };
const P1 = { host: '10.0.0.1', port: 6379 };
const P2 = { host: '10.0.0.2', port: 6380 };

const config = {
  url: undefined,
  cluster: undefined,
  username: undefined,
  password: undefined,
  commandTimeoutMs: 100,
  breakerThreshold: 3,
  probeIntervalMs: 1000,
  sentinel: { nodes: [S0, S1], master: 'cache', username: undefined, password: undefined },
};

/** Two Sentinels naming `named.primary` (changed by a test), and the nodes the follower connected to. */
function throughSentinels() {
  const named: { primary: RedisNodeAddress | undefined } = { primary: P1 };
  const nodes: FakeNode[] = [];
  const ask = jest.fn(async (sentinels: readonly RedisNodeAddress[]): Promise<SentinelAnswer[]> =>
    sentinels.map((node) => ({ node, primary: named.primary })),
  );
  const create = jest.fn((address: RedisNodeAddress) => {
    const node = new FakeNode(address);
    nodes.push(node);
    return node as unknown as RedisClientType;
  });
  const endpoint = new SentinelEndpoint({ master: 'cache', nodes: [S0, S1], intervalMs: 1000, timeoutMs: 1000, create, ask });
  const redis = new RedisConnection(config, endpoint);
  const skips: RedisSkipReason[] = [];
  const failovers: Array<{ from: string; to: string }> = [];
  redis.onSkip((reason) => skips.push(reason));
  redis.onFailover((failover) => failovers.push(failover));
  const last = () => nodes[nodes.length - 1];
  return { redis, named, nodes, last, ask, create, skips, failovers };
}

describe('RedisConnection through Sentinel', () => {
  let warn: jest.SpiedFunction<Logger['warn']>;
  let log: jest.SpiedFunction<Logger['log']>;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('connects to the primary the Sentinels name once it says ROLE master; another primary later is one failover, warned once', async () => {
    const { redis, named, nodes, failovers } = throughSentinels();
    expect(redis.via).toBe('sentinel');
    expect(redis.primary).toBeUndefined();
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    expect(redis.primary).toBe('10.0.0.1:6379');
    expect(redis.ready).toBe(true);
    expect(nodes[0].sendCommand).toHaveBeenCalledWith(['ROLE']);
    await expect(redis.run((client) => client.get('k'))).resolves.toBe('value');
    // Asked again and again, the same primary: no new connection, no failover.
    await jest.advanceTimersByTimeAsync(3000);
    expect(nodes).toHaveLength(1);
    expect(failovers).toEqual([]);

    named.primary = P2;
    await jest.advanceTimersByTimeAsync(1000);
    expect(nodes.map((node) => node.address)).toEqual([P1, P2]);
    expect(nodes[0].destroy).toHaveBeenCalled();
    expect(redis.primary).toBe('10.0.0.2:6380');
    expect(redis.failovers).toBe(1);
    expect(failovers).toEqual([{ from: '10.0.0.1:6379', to: '10.0.0.2:6380' }]);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/^Redis failover: the Sentinels moved "cache" from 10\.0\.0\.1:6379 to 10\.0\.0\.2:6380;/),
    ]);
  });

  it('commands never wait on the Sentinels: while every Sentinel hangs, they run on the primary', async () => {
    const { redis, ask, skips } = throughSentinels();
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    ask.mockImplementation(() => new Promise<SentinelAnswer[]>(() => undefined));
    await jest.advanceTimersByTimeAsync(5000);
    for (let i = 0; i < 10; i++) await expect(redis.run((client) => client.get('k'))).resolves.toBe('value');
    expect(skips).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('a lost primary connection: skipped at once, never re-dialled, the Sentinels asked at once, back on the node they name', async () => {
    const { redis, named, nodes, last, ask, skips } = throughSentinels();
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    const asked = ask.mock.calls.length;
    named.primary = undefined;
    nodes[0].lose();
    expect(ask).toHaveBeenCalledTimes(asked + 1);
    await expect(redis.run((client) => client.get('k'))).resolves.toBeUndefined();
    expect(skips).toEqual(['disconnected']);
    expect(nodes[0].connect).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis unreachable (10.0.0.1:6379: Socket closed unexpectedly); serving from the in-process cache and Shoutcloud until it returns',
    ]);

    named.primary = P2;
    await jest.advanceTimersByTimeAsync(1000);
    expect(last().address).toEqual(P2);
    expect(redis.serverVersion).toBe('7.2.4');
    expect(log.mock.calls.map(([message]) => message)).toContain('Redis is back (primary 10.0.0.2:6380); the shared cache tier is on again');
    await expect(redis.run((client) => client.get('k'))).resolves.toBe('value');
  });

  it('a node that answers ROLE as a replica is never used; the Sentinels are asked again', async () => {
    const { redis, nodes, create } = throughSentinels();
    create.mockImplementationOnce((address: RedisNodeAddress) => {
      const node = new FakeNode(address);
      node.role = 'slave';
      nodes.push(node);
      return node as unknown as RedisClientType;
    });
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    expect(redis.ready).toBe(false);
    expect(nodes[0].destroy).toHaveBeenCalled();
    expect(redis.problem).toBe('10.0.0.1:6379: ROLE says slave, not master');
    await jest.advanceTimersByTimeAsync(1000);
    expect(nodes).toHaveLength(2);
    expect(redis.ready).toBe(true);
  });

  it('a primary that accepts and never answers the handshake is given up within the time limit, and tried again', async () => {
    const { redis, nodes, create } = throughSentinels();
    create.mockImplementationOnce((address: RedisNodeAddress) => {
      const node = new FakeNode(address);
      // node-redis counts a client as open from the moment it starts connecting.
      node.connect.mockImplementation(() => {
        node.isOpen = true;
        return new Promise<FakeNode>(() => undefined);
      });
      nodes.push(node);
      return node as unknown as RedisClientType;
    });
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(999);
    expect(redis.problem).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(redis.problem).toBe('10.0.0.1:6379: did not answer the handshake within 1000 ms');
    expect(nodes[0].destroy).toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1000);
    expect(redis.ready).toBe(true);
  });

  it('a silent Sentinel is logged once and shown in details; the one that answers names the primary', async () => {
    const { redis, ask } = throughSentinels();
    ask.mockImplementation(async () => [
      { node: S0, error: 'no answer within 1000 ms' },
      { node: S1, primary: P1 },
    ]);
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(3000);
    await expect(redis.run((client) => client.get('k'))).resolves.toBe('value');
    expect(warn.mock.calls.map(([message]) => message)).toEqual(['Redis Sentinel s0:26379 gave no answer (no answer within 1000 ms); the others are asked']);
    expect(redis.details).toEqual({ sentinelMaster: 'cache', silentSentinels: ['s0:26379'] });

    ask.mockImplementation(async (nodes) => nodes.map((node) => ({ node, primary: P1 })));
    await jest.advanceTimersByTimeAsync(1000);
    expect(log.mock.calls.map(([message]) => message)).toContain('Redis Sentinel s0:26379 answers again');
    expect(redis.details).toEqual({ sentinelMaster: 'cache' });
  });

  it('no Sentinel answering at start-up: unreachable, saying why; asked every interval, and joins when they answer', async () => {
    const { redis, ask, nodes } = throughSentinels();
    ask.mockImplementation(async (sentinels) => sentinels.map((node) => ({ node, error: 'connect ECONNREFUSED' })));
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(2000);
    expect(ask).toHaveBeenCalledTimes(3);
    expect(nodes).toHaveLength(0);
    expect(redis.problem).toBe('none of the Sentinels answered (s0:26379: connect ECONNREFUSED; s1:26379: connect ECONNREFUSED)');
    ask.mockImplementation(async (sentinels) => sentinels.map((node) => ({ node, primary: P1 })));
    await jest.advanceTimersByTimeAsync(1000);
    expect(redis.ready).toBe(true);
  });

  it('a primary hung until the Sentinels name another: the breaker opened on it is probed as soon as the new one is connected', async () => {
    const { redis, named, last } = throughSentinels();
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 3; i++) await redis.run(failing);
    expect(redis.breakerState).toBe('open');
    named.primary = P2;
    await jest.advanceTimersByTimeAsync(1000);
    // INFO server through the breaker at once, not at the probe's next tick.
    expect(last().info).toHaveBeenCalled();
    expect(redis.breakerState).toBe('closed');
  });

  it('a connection that comes up while the process shuts down is not "back"', async () => {
    const { redis, nodes, create } = throughSentinels();
    let finish: () => void = () => undefined;
    create.mockImplementationOnce((address: RedisNodeAddress) => {
      const node = new FakeNode(address);
      node.connect.mockImplementation(() => new Promise<FakeNode>((resolve) => (finish = () => resolve(node))));
      nodes.push(node);
      return node as unknown as RedisClientType;
    });
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    const closed = redis.onApplicationShutdown();
    finish();
    await closed;
    await jest.advanceTimersByTimeAsync(0);
    expect(log.mock.calls.map(([message]) => message)).not.toContainEqual(expect.stringMatching(/^Redis is back/));
    expect(nodes[0].destroy).toHaveBeenCalled();
    expect(nodes[0].info).not.toHaveBeenCalled();
  });
});
