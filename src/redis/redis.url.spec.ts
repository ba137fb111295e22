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
  ping = jest.fn(async (): Promise<string> => 'PONG');
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
  cluster: undefined,
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

describe('RedisConnection: a configuration problem', () => {
  let warn: jest.SpiedFunction<Logger['warn']>;
  let error: jest.SpiedFunction<Logger['error']>;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('refused at every handshake: one error line naming what to fix, no outage line, and the fix in /health', async () => {
    const client = new FakeClient();
    const redis = new RedisConnection(config, new UrlEndpoint(() => client as unknown as RedisClientType, config.url));
    for (let i = 0; i < 3; i++) client.emit('error', new Error('ERR DB index is out of range'));
    expect(error.mock.calls.map(([message]) => message)).toEqual([
      'Redis configuration problem (ERR DB index is out of range): the database number in REDIS_URL does not exist on the server; ' +
        'serving from the in-process cache and Shoutcloud until it is fixed',
    ]);
    expect(warn).not.toHaveBeenCalled();
    expect(redis.configurationError).toBe('the database number in REDIS_URL does not exist on the server');
    expect(redis.problem).toBe('ERR DB index is out of range');
  });

  it('refused on every command: named once, the breaker opening on it is no news, and a command that succeeds clears it', async () => {
    const client = new FakeClient();
    client.isReady = true;
    const redis = new RedisConnection(config, new UrlEndpoint(() => client as unknown as RedisClientType, config.url));
    const noAuth = () => Promise.reject(new Error('NOAUTH Authentication required.'));
    for (let i = 0; i < 5; i++) await redis.run(noAuth);
    expect(redis.breakerState).toBe('open');
    expect(error.mock.calls.map(([message]) => message)).toEqual([expect.stringMatching(/^Redis configuration problem \(NOAUTH Authentication required\.\): the server requires a password and none is given/)]);
    expect(warn).not.toHaveBeenCalled();
    expect(redis.configurationError).toMatch(/requires a password/);
    await jest.advanceTimersByTimeAsync(1000);
    expect(redis.breakerState).toBe('closed');
    await redis.run(async () => 'value');
    expect(redis.configurationError).toBeUndefined();
  });
});
