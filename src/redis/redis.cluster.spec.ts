import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { RedisClusterType } from '@keyv/redis';
import { EventEmitter } from 'node:events';
import { ClusterEndpoint } from './redis.cluster.js';
import type { RedisNodeAddress } from './redis.config.js';
import { RedisConnection, type RedisSkipReason } from './redis.connection.js';

const SLOTS = 16384;

interface FakeNode {
  host: string;
  port: number;
  client: { isReady: boolean };
}

const node = (port: number): FakeNode => ({ host: '10.0.0.1', port, client: { isReady: true } });

/** node-redis's cluster client as the endpoint sees it: a slot map of primaries, no sockets. */
class FakeCluster extends EventEmitter {
  isOpen = false;
  slots: Array<{ master: FakeNode }> = new Array<{ master: FakeNode }>(SLOTS);
  constructor(readonly masters: FakeNode[]) {
    super();
    masters.forEach((master, shard) => {
      const size = Math.ceil(SLOTS / masters.length);
      for (let slot = shard * size; slot < Math.min(SLOTS, (shard + 1) * size); slot++) this.slots[slot] = { master };
    });
  }
  get = jest.fn(async () => 'value');
  info = jest.fn(async () => '# Server\r\nredis_version:7.0.15\r\n');
  ping = jest.fn(async () => 'PONG');
  connect = jest.fn(async () => {
    this.isOpen = true;
    return this;
  });
  close = jest.fn(async () => undefined);
  destroy = jest.fn(() => {
    this.isOpen = false;
  });
}

const config = {
  url: undefined,
  sentinel: undefined,
  cluster: { nodes: [{ host: '10.0.0.1', port: 7000 }] },
  username: undefined,
  password: undefined,
  commandTimeoutMs: 100,
  breakerThreshold: 3,
  probeIntervalMs: 1000,
};

function throughCluster(...clusters: FakeCluster[]) {
  const create = jest.fn((seeds: readonly RedisNodeAddress[]) => (seeds && clusters[create.mock.calls.length - 1]) as unknown as RedisClusterType);
  const endpoint = new ClusterEndpoint({ seeds: config.cluster.nodes, intervalMs: 1000, create });
  const redis = new RedisConnection(config, endpoint);
  const skips: RedisSkipReason[] = [];
  const failovers: Array<{ from: string; to: string }> = [];
  redis.onSkip((reason) => skips.push(reason));
  redis.onFailover((failover) => failovers.push(failover));
  return { redis, create, skips, failovers };
}

describe('ClusterEndpoint', () => {
  let warn: jest.SpiedFunction<Logger['warn']>;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('runs commands on node-redis cluster client; /health names the primaries and whether every slot is served', async () => {
    const cluster = new FakeCluster([node(7000), node(7001), node(7002)]);
    const { redis } = throughCluster(cluster);
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    expect(redis.via).toBe('cluster');
    expect(redis.ready).toBe(true);
    await expect(redis.run((client) => client.get('k'))).resolves.toBe('value');
    expect(redis.serverVersion).toBe('7.0.15');
    expect(redis.details).toEqual({
      nodes: [7000, 7001, 7002].map((port) => ({ address: `10.0.0.1:${port}`, connected: true })),
      slotsCovered: true,
    });
    cluster.masters[1].client.isReady = false;
    expect(redis.details).toMatchObject({ slotsCovered: false });
    // The other shards still serve.
    expect(redis.ready).toBe(true);
  });

  it('a primary away: its keys are skipped as disconnected, never opening the breaker on the shards that answer', async () => {
    const { redis, skips } = throughCluster(new FakeCluster([node(7000), node(7001)]));
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 10; i++) await redis.run(() => Promise.reject(new Error('The client is closed')));
    expect(redis.breakerState).toBe('closed');
    expect(skips).toEqual(Array(10).fill('disconnected'));
  });

  it('a primary whose connection fails is logged once, and once when it is back', async () => {
    const cluster = new FakeCluster([node(7000), node(7001)]);
    const { redis } = throughCluster(cluster);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 3; i++) cluster.emit('node-error', new Error('connect ECONNREFUSED 10.0.0.1:7001'), { host: '10.0.0.1', port: 7001 });
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis cluster node 10.0.0.1:7001 unreachable (connect ECONNREFUSED 10.0.0.1:7001); its slots go without Redis until it is back or replaced',
    ]);
    cluster.emit('node-ready', { host: '10.0.0.1', port: 7001 });
    expect(log.mock.calls.map(([message]) => message)).toContain('Redis cluster node 10.0.0.1:7001 is back');
  });

  it('while a primary is away, learns the cluster anew each interval and moves once every slot has a ready primary', async () => {
    const first = new FakeCluster([node(7000), node(7001)]);
    const incomplete = new FakeCluster([node(7000)]);
    incomplete.slots.fill(undefined as never, 0, 100);
    const promoted = new FakeCluster([node(7000), node(7004)]);
    const { redis, create, failovers } = throughCluster(first, incomplete, promoted);
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(1000);
    expect(create).toHaveBeenCalledTimes(1);

    first.masters[1].client.isReady = false;
    await jest.advanceTimersByTimeAsync(1000);
    // Slots without a primary yet: given up, the one in use kept.
    expect(create).toHaveBeenCalledTimes(2);
    expect(create.mock.calls[1][0]).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.1', port: 7001 },
      { host: '10.0.0.1', port: 7000 },
    ]);
    expect(incomplete.destroy).toHaveBeenCalled();
    expect(failovers).toEqual([]);

    await jest.advanceTimersByTimeAsync(1000);
    expect(create).toHaveBeenCalledTimes(3);
    expect(first.destroy).toHaveBeenCalled();
    expect(failovers).toEqual([{ from: '10.0.0.1:7001', to: '10.0.0.1:7004' }]);
    expect(redis.failovers).toBe(1);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis failover: the cluster moved slots 8192-16383 from 10.0.0.1:7001 to 10.0.0.1:7004; requests use the new primary now',
    ]);
    await redis.run((client) => client.get('k'));
    expect(promoted.get).toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(5000);
    expect(create).toHaveBeenCalledTimes(3);
  });

  it('no seed answering at start-up: tried again with a new client every interval until one does', async () => {
    const refused = new FakeCluster([node(7000)]);
    refused.connect.mockImplementation(() => Promise.reject(new Error('All the root nodes are unavailable')));
    const later = new FakeCluster([node(7000)]);
    const { redis, create, skips } = throughCluster(refused, later);
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    expect(redis.ready).toBe(false);
    await expect(redis.run((client) => client.get('k'))).resolves.toBeUndefined();
    expect(skips).toEqual(['disconnected']);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis unreachable (All the root nodes are unavailable); serving from the in-process cache and Shoutcloud until it returns',
    ]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(create).toHaveBeenCalledTimes(2);
    expect(redis.ready).toBe(true);
  });
});
