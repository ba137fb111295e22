import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { RedisClientType } from '@keyv/redis';
import { EventEmitter } from 'node:events';
import type { ConfigType } from '@nestjs/config';
import type { redisConfig } from './redis.config.js';
import { RedisConnection, type RedisSkipReason } from './redis.connection.js';
import { UrlEndpoint } from './redis.url.js';

const config = {
  url: 'redis://redis.test:6379' as string | undefined,
  sentinel: undefined as ConfigType<typeof redisConfig>['sentinel'],
  cluster: undefined,
  username: undefined,
  password: undefined,
  commandTimeoutMs: 100,
  breakerThreshold: 3,
  probeIntervalMs: 1000,
};

/** The node-redis surface the connection uses, scripted: no socket (the e2e tests pause a real Redis). */
class FakeClient extends EventEmitter {
  isReady = true;
  isOpen = true;
  ping = jest.fn(async (): Promise<string> => 'PONG');
  info = jest.fn(async (): Promise<string> => '# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n');
  connect = jest.fn(async () => this);
  close = jest.fn(async () => undefined);
  destroy = jest.fn();
}

const never = () => new Promise<string>(() => undefined);
const failing = () => Promise.reject(new Error('READONLY'));

function connection(overrides: Partial<typeof config> = {}) {
  const client = new FakeClient();
  const redis = new RedisConnection({ ...config, ...overrides }, new UrlEndpoint(() => client as unknown as RedisClientType, config.url!));
  const skips: RedisSkipReason[] = [];
  redis.onSkip((reason) => skips.push(reason));
  return { redis, client, skips };
}

describe('RedisConnection: the one Redis failure policy', () => {
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

  it('answers with the command result while Redis answers', async () => {
    const { redis, skips } = connection();
    await expect(redis.run(async () => 'value')).resolves.toBe('value');
    expect(skips).toEqual([]);
  });

  it('gives up on a command that does not answer within REDIS_TIMEOUT_MS and resolves undefined', async () => {
    const { redis, skips } = connection();
    const result = redis.run(never);
    await jest.advanceTimersByTimeAsync(99);
    expect(skips).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBeUndefined();
    expect(skips).toEqual(['timeout']);
  });

  it('skips without sending while disconnected', async () => {
    const { redis, client, skips } = connection();
    client.isReady = false;
    const command = jest.fn(async () => 'value');
    await expect(redis.run(command)).resolves.toBeUndefined();
    expect(command).not.toHaveBeenCalled();
    expect(skips).toEqual(['disconnected']);
  });

  it('opens the breaker after REDIS_BREAKER_THRESHOLD failures or timeouts in a row, then skips without sending', async () => {
    const { redis, skips } = connection();
    await redis.run(failing);
    const timedOut = redis.run(never);
    await jest.advanceTimersByTimeAsync(100);
    await timedOut;
    expect(redis.breakerState).toBe('closed');
    await redis.run(failing);
    expect(redis.breakerState).toBe('open');

    const command = jest.fn(async () => 'value');
    await expect(redis.run(command)).resolves.toBeUndefined();
    expect(command).not.toHaveBeenCalled();
    expect(skips).toEqual(['error', 'timeout', 'error', 'breaker_open']);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis failed 3 calls in a row (last: READONLY); requests skip it, a background PING checks it every 1000 ms',
    ]);
  });

  it('a success in between starts the count again', async () => {
    const { redis } = connection();
    await redis.run(failing);
    await redis.run(failing);
    await redis.run(async () => 'ok');
    await redis.run(failing);
    await redis.run(failing);
    expect(redis.breakerState).toBe('closed');
  });

  it('probes with PING in the background: a hung PING keeps it open, an answered one closes it', async () => {
    const { redis, client } = connection();
    for (let i = 0; i < 3; i++) await redis.run(failing);
    expect(redis.breakerState).toBe('open');
    client.ping.mockImplementation(never);

    await jest.advanceTimersByTimeAsync(999);
    expect(client.ping).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(client.ping).toHaveBeenCalledTimes(1);
    expect(redis.breakerState).toBe('half-open');
    // The probe has the same budget as any call.
    await jest.advanceTimersByTimeAsync(100);
    expect(redis.breakerState).toBe('open');

    client.ping.mockImplementation(async () => 'PONG');
    await jest.advanceTimersByTimeAsync(1000);
    expect(client.ping).toHaveBeenCalledTimes(2);
    expect(redis.breakerState).toBe('closed');
    await expect(redis.run(async () => 'value')).resolves.toBe('value');

    // One line when requests stop using Redis, one when they use it again; the failed probe in between is no news.
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/^Redis failed 3 calls in a row/),
      'Redis answered the background PING; requests use it again',
    ]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(client.ping).toHaveBeenCalledTimes(2);
  });

  it('reads the server version when a connection is ready, and reports it once', async () => {
    const { redis, client } = connection();
    const versions: string[] = [];
    redis.onServerVersion((version) => versions.push(version));
    expect(redis.serverVersion).toBeUndefined();
    client.emit('ready');
    await jest.advanceTimersByTimeAsync(0);
    client.emit('ready');
    await jest.advanceTimersByTimeAsync(0);
    expect(client.info).toHaveBeenCalledWith('server');
    expect(redis.serverVersion).toBe('7.0.15');
    expect(versions).toEqual(['7.0.15']);
  });

  it('asks for the version again while it is unknown', async () => {
    const { redis, client } = connection();
    client.info.mockImplementationOnce(never);
    client.emit('ready');
    await jest.advanceTimersByTimeAsync(100);
    expect(redis.serverVersion).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1000);
    expect(client.info).toHaveBeenCalledTimes(2);
    expect(redis.serverVersion).toBe('7.0.15');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(client.info).toHaveBeenCalledTimes(2);
  });

  it('with REDIS_URL unset, runs nothing and reports nothing', async () => {
    const redis = new RedisConnection({ ...config, url: undefined }, undefined);
    const skips: RedisSkipReason[] = [];
    redis.onSkip((reason) => skips.push(reason));
    const command = jest.fn(async () => 'value');
    await expect(redis.run(command)).resolves.toBeUndefined();
    expect(command).not.toHaveBeenCalled();
    expect(skips).toEqual([]);
    expect(redis.enabled).toBe(false);
  });
});
