import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { RedisClientType } from '@keyv/redis';
import { EventEmitter } from 'node:events';
import { RedisConnection } from './redis.connection.js';
import { UrlEndpoint } from './redis.url.js';

/** node-redis's client as the URL endpoint sees it: connected by events, no socket. */
class FakeClient extends EventEmitter {
  isReady = false;
  isOpen = false;
  info = jest.fn(async (): Promise<string> => '# Server\r\nredis_version:7.0.15\r\n');
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
  url: 'redis://redis.test:6379',
  sentinel: undefined,
  username: undefined,
  password: undefined,
  commandTimeoutMs: 100,
  breakerThreshold: 3,
  probeIntervalMs: 1000,
};

describe('UrlEndpoint', () => {
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

  it('a connection accepted but never handshaken is reported, and dialled again with a new client until one is ready', async () => {
    const clients = [new FakeClient(), new FakeClient(), new FakeClient()];
    const create = jest.fn(() => clients[create.mock.calls.length - 1] as unknown as RedisClientType);
    const redis = new RedisConnection(config, new UrlEndpoint(create, config.url));
    redis.onModuleInit();
    clients[0].emit('connect');
    await jest.advanceTimersByTimeAsync(4999);
    expect(create).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    const reason = 'redis.test:6379 accepted the connection but did not answer the handshake within 5000 ms';
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      `Redis unreachable (${reason}); serving from the in-process cache and Shoutcloud until it returns`,
    ]);
    expect(redis.problem).toBe(reason);
    expect(clients[0].destroy).toHaveBeenCalled();
    expect(clients[1].connect).toHaveBeenCalled();

    // A late event of the client given up changes nothing.
    clients[0].emit('error', new Error('Socket closed unexpectedly'));
    expect(redis.problem).toBe(reason);

    clients[1].emit('connect');
    clients[1].isReady = true;
    clients[1].emit('ready');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(create).toHaveBeenCalledTimes(2);
    expect(redis.ready).toBe(true);
    expect(redis.problem).toBeUndefined();
    expect(redis.serverVersion).toBe('7.0.15');
  });
});
