import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { RedisSentinelType } from '@keyv/redis';
import { EventEmitter } from 'node:events';
import { RedisConnection, type RedisSkipReason } from './redis.connection.js';
import type { RedisNodeAddress } from './redis.config.js';
import { SentinelEndpoint } from './redis.sentinel-follower.js';
import type { SentinelAnswer } from './redis.sentinel-probe.js';

const failing = () => Promise.reject(new Error('READONLY'));

/**
 * The node-redis Sentinel client surface the connection uses, scripted: `master` is the primary
 * connection node-redis holds (undefined while it has none), events as node-redis emits them.
 */
class FakeSentinel extends EventEmitter {
  isReady = true;
  isOpen = true;
  master: { host: string; port: number } | undefined = { host: '10.0.0.1', port: 6379 };
  getMasterNode = () => this.master;
  ping = jest.fn(async (): Promise<string> => 'PONG');
  info = jest.fn(async (): Promise<string> => '# Server\r\nredis_version:7.2.4\r\n');
  connect = jest.fn(async () => this);
  close = jest.fn(async () => undefined);
  destroy = jest.fn(async () => undefined);

  primaryIs(host: string, port = 6379) {
    this.emit('topology-change', { type: 'MASTER_CHANGE', node: { host, port } });
  }
}

const sentinelConfig = {
  url: undefined,
  cluster: undefined,
  username: undefined,
  password: undefined,
  commandTimeoutMs: 100,
  breakerThreshold: 3,
  probeIntervalMs: 1000,
  sentinel: { nodes: [{ host: 's1', port: 26379 }], master: 'cache', username: undefined, password: undefined },
};

function throughSentinel() {
  const client = new FakeSentinel();
  const ask = jest.fn(async (nodes: readonly RedisNodeAddress[]): Promise<SentinelAnswer[]> =>
    nodes.map((node) => ({ node, primary: client.master && `${client.master.host}:${client.master.port}` })),
  );
  const endpoint = new SentinelEndpoint(client as unknown as RedisSentinelType, {
    master: 'cache',
    nodes: sentinelConfig.sentinel.nodes,
    intervalMs: 1000,
    create: () => client as unknown as RedisSentinelType,
    ask,
  });
  const redis = new RedisConnection(sentinelConfig, endpoint);
  const skips: RedisSkipReason[] = [];
  const failovers: Array<{ from: string; to: string }> = [];
  redis.onSkip((reason) => skips.push(reason));
  redis.onFailover((failover) => failovers.push(failover));
  return { redis, client, skips, failovers, ask };
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

  it('names the first primary without calling it a failover; a different one is one failover, counted and warned once', () => {
    const { redis, client, failovers } = throughSentinel();
    expect(redis.via).toBe('sentinel');
    expect(redis.primary).toBeUndefined();
    client.primaryIs('10.0.0.1');
    expect(redis.primary).toBe('10.0.0.1:6379');
    // The same primary again (its connection was re-opened) is no failover either.
    client.primaryIs('10.0.0.1');
    expect(failovers).toEqual([]);
    client.primaryIs('10.0.0.2', 6380);
    client.primaryIs('fd00::3', 6379);
    expect(redis.primary).toBe('[fd00::3]:6379');
    expect(redis.failovers).toBe(2);
    expect(failovers).toEqual([
      { from: '10.0.0.1:6379', to: '10.0.0.2:6380' },
      { from: '10.0.0.2:6380', to: '[fd00::3]:6379' },
    ]);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/^Redis failover: the Sentinels moved "cache" from 10\.0\.0\.1:6379 to 10\.0\.0\.2:6380;/),
      expect.stringMatching(/^Redis failover: the Sentinels moved "cache" from 10\.0\.0\.2:6380 to \[fd00::3\]:6379;/),
    ]);
  });

  it('skips without sending while node-redis holds no ready primary, and sets one background PING going until it does', async () => {
    const { redis, client, skips } = throughSentinel();
    client.primaryIs('10.0.0.1');
    let answer: (value: string) => void = () => undefined;
    client.ping.mockImplementation(() => new Promise<string>((resolve) => (answer = resolve)));
    client.master = undefined;
    client.emit('error', new Error('Master Client (10.0.0.1:6379): connect ECONNREFUSED'));
    const command = jest.fn(async () => 'value');
    for (let i = 0; i < 10; i++) await expect(redis.run(command)).resolves.toBeUndefined();
    expect(command).not.toHaveBeenCalled();
    expect(skips).toEqual(Array(10).fill('disconnected'));
    // One PING in flight at a time, however many requests skipped.
    expect(client.ping).toHaveBeenCalledTimes(1);
    expect(redis.breakerState).toBe('closed');
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis unreachable (Master Client (10.0.0.1:6379): connect ECONNREFUSED); serving from the in-process cache and Shoutcloud until it returns',
    ]);

    client.master = { host: '10.0.0.2', port: 6379 };
    client.primaryIs('10.0.0.2');
    answer('PONG');
    await jest.advanceTimersByTimeAsync(0);
    expect(client.info).toHaveBeenCalledWith('server');
    expect(redis.serverVersion).toBe('7.2.4');
    expect(log.mock.calls.map(([message]) => message)).toContain('Redis is back (primary 10.0.0.2:6379); the shared cache tier is on again');
    await expect(redis.run(command)).resolves.toBe('value');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(client.ping).toHaveBeenCalledTimes(1);
  });

  it('a primary hung until the Sentinels name another: the breaker opened on it is probed as soon as the new one is connected', async () => {
    const { redis, client, failovers } = throughSentinel();
    client.primaryIs('10.0.0.1');
    for (let i = 0; i < 3; i++) await redis.run(failing);
    expect(redis.breakerState).toBe('open');
    await jest.advanceTimersByTimeAsync(300);
    client.master = undefined;
    client.primaryIs('10.0.0.2');
    expect(failovers).toEqual([{ from: '10.0.0.1:6379', to: '10.0.0.2:6379' }]);
    client.master = { host: '10.0.0.2', port: 6379 };
    // The rediscovery PING answered (connected), then INFO server through the breaker at once, not 700 ms later.
    await jest.advanceTimersByTimeAsync(0);
    expect(client.ping).toHaveBeenCalledTimes(1);
    expect(client.info).toHaveBeenCalled();
    expect(redis.breakerState).toBe('closed');
    expect(redis.serverVersion).toBe('7.2.4');
  });

  it('a Sentinel failing while the primary answers is no outage: no warning, nothing skipped', async () => {
    const { redis, client, skips } = throughSentinel();
    client.primaryIs('10.0.0.1');
    client.emit('error', 'obseve client error: Error: connect ECONNREFUSED 10.0.0.9:26379');
    await expect(redis.run(async () => 'value')).resolves.toBe('value');
    expect(skips).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
    expect(client.ping).not.toHaveBeenCalled();
  });

  it('a refused background PING is tried again every REDIS_PROBE_INTERVAL_MS while there is no primary', async () => {
    const { redis, client } = throughSentinel();
    client.master = undefined;
    client.ping.mockImplementation(failing);
    await redis.run(async () => 'value');
    await jest.advanceTimersByTimeAsync(0);
    expect(client.ping).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(client.ping).toHaveBeenCalledTimes(2);
    // A primary came meanwhile: no more PINGs, and it is back.
    client.master = { host: '10.0.0.1', port: 6379 };
    await jest.advanceTimersByTimeAsync(10_000);
    expect(client.ping).toHaveBeenCalledTimes(2);
    expect(client.info).toHaveBeenCalledTimes(1);
    await expect(redis.run(async () => 'value')).resolves.toBe('value');
  });

  it('a first connection given up because the process is shutting down is not "back"', async () => {
    const { redis, client } = throughSentinel();
    client.isReady = false;
    let finish: (value: FakeSentinel) => void = () => undefined;
    client.connect.mockImplementationOnce(() => new Promise<FakeSentinel>((resolve) => (finish = resolve)));
    redis.onModuleInit();
    client.emit('error', 'obseve client error: Error: connect ECONNREFUSED 127.0.0.1:26379');
    const closed = redis.onApplicationShutdown();
    finish(client);
    await closed;
    await jest.advanceTimersByTimeAsync(0);
    expect(log.mock.calls.map(([message]) => message)).not.toContainEqual(expect.stringMatching(/^Redis is back/));
    expect(client.info).not.toHaveBeenCalled();
  });

  it('when node-redis gives its first connection up, asks the Sentinels every interval and starts again on those that answer', async () => {
    const { redis, client, ask, create } = withSentinels();
    client.isReady = false;
    client.connect.mockImplementationOnce(() => Promise.reject(new Error('None of the sentinels are available')));
    ask.mockImplementationOnce(async (nodes) => nodes.map((node) => ({ node, error: 'connect ECONNREFUSED' })));
    redis.onModuleInit();
    await jest.advanceTimersByTimeAsync(0);
    expect(client.destroy).toHaveBeenCalledTimes(1);
    expect(create).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1000);
    expect(create.mock.calls).toEqual([[[SILENT, ANSWERING]]]);
    expect(client.connect).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(client.connect).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis unreachable (None of the sentinels are available); serving from the in-process cache and Shoutcloud until it returns',
      'Redis Sentinel s0:26379 gave no answer (connect ECONNREFUSED); the others are asked',
      'Redis Sentinel s1:26379 gave no answer (connect ECONNREFUSED); the others are asked',
    ]);
  });

  it('asks every Sentinel each interval itself; a silent one is logged once, and its silence holds no command', async () => {
    const { redis, client, ask, create } = withSentinels();
    redis.onModuleInit();
    client.primaryIs('10.0.0.1');
    ask.mockImplementation(async () => [
      { node: SILENT, error: 'no answer within 1000 ms' },
      { node: ANSWERING, primary: '10.0.0.1:6379' },
    ]);
    await jest.advanceTimersByTimeAsync(3000);
    expect(ask).toHaveBeenCalledTimes(3);
    expect(create).not.toHaveBeenCalled();
    expect(client.destroy).not.toHaveBeenCalled();
    await expect(redis.run(async () => 'value')).resolves.toBe('value');
    expect(warn.mock.calls.map(([message]) => message)).toEqual(['Redis Sentinel s0:26379 gave no answer (no answer within 1000 ms); the others are asked']);
    expect(redis.details).toEqual({ sentinelMaster: 'cache', silentSentinels: ['s0:26379'] });

    ask.mockImplementation(async (nodes) => nodes.map((node) => ({ node, primary: '10.0.0.1:6379' })));
    await jest.advanceTimersByTimeAsync(1000);
    expect(log.mock.calls.map(([message]) => message)).toContain('Redis Sentinel s0:26379 answers again');
    expect(redis.details).toEqual({ sentinelMaster: 'cache' });
  });

  it('when the Sentinels name another primary, starts node-redis again on the Sentinels that answer', async () => {
    const { redis, client, ask, create } = withSentinels();
    redis.onModuleInit();
    client.primaryIs('10.0.0.1');
    ask.mockImplementation(async () => [
      { node: SILENT, error: 'no answer within 1000 ms' },
      { node: ANSWERING, primary: '10.0.0.2:6379' },
    ]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(client.destroy).toHaveBeenCalledTimes(1);
    expect(create.mock.calls).toEqual([[[ANSWERING]]]);
    expect(client.connect).toHaveBeenCalledTimes(2);
  });
});

const SILENT = { host: 's0', port: 26379 };
const ANSWERING = { host: 's1', port: 26379 };

/** Two Sentinels configured, the first of them silent when a test says so. */
function withSentinels() {
  const client = new FakeSentinel();
  const ask = jest.fn(async (nodes: readonly RedisNodeAddress[]): Promise<SentinelAnswer[]> => nodes.map((node) => ({ node, primary: '10.0.0.1:6379' })));
  const create = jest.fn((nodes: readonly RedisNodeAddress[]) => (nodes && client) as unknown as RedisSentinelType);
  const endpoint = new SentinelEndpoint(client as unknown as RedisSentinelType, { master: 'cache', nodes: [SILENT, ANSWERING], intervalMs: 1000, create, ask });
  const redis = new RedisConnection(sentinelConfig, endpoint);
  return { redis, client, ask, create };
}
