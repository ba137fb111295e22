import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { EventEmitter } from 'cockatiel';
import type { RedisConnection } from '../redis/redis.connection.js';
import { RedisThrottlerStorage, SHARED_AGAIN_AFTER_MS, supportsExpireNx } from './redis-throttler.storage.js';

/** A MULTI chain that records what was queued and answers `replies` on EXEC. */
function fakeClient(replies: unknown[]) {
  const queued: unknown[][] = [];
  const chain = {
    incr: (...args: unknown[]) => (queued.push(['incr', ...args]), chain),
    pExpire: (...args: unknown[]) => (queued.push(['pExpire', ...args]), chain),
    pTTL: (...args: unknown[]) => (queued.push(['pTTL', ...args]), chain),
    exec: async () => replies,
  };
  return { client: { multi: () => chain }, queued };
}

/** Stands in for Nest's in-memory storage: a plain count per key. */
function localCounters(): ThrottlerStorage {
  const hits = new Map<string, number>();
  return {
    increment: async (key: string, _ttl: number, limit: number) => {
      const totalHits = (hits.get(key) ?? 0) + 1;
      hits.set(key, totalHits);
      return { totalHits, timeToExpire: 60, isBlocked: totalHits > limit, timeToBlockExpire: 0 };
    },
  };
}

/** The connection's surface the storage uses: `run` answers through `answer`, undefined meaning skipped. */
function connection(version: string | undefined) {
  const versions = new EventEmitter<string>();
  let answer: ((command: (client: never) => Promise<unknown>) => Promise<unknown>) | undefined;
  const redis = {
    serverVersion: version,
    onServerVersion: versions.addListener,
    run: jest.fn((command: (client: never) => Promise<unknown>) => (answer ? answer(command) : Promise.resolve(undefined))),
  };
  return {
    redis,
    storage: new RedisThrottlerStorage(redis as unknown as RedisConnection, localCounters()),
    answerWith: (next: typeof answer) => (answer = next),
    announce: (next: string) => {
      redis.serverVersion = next;
      versions.emit(next);
    },
  };
}

describe('RedisThrottlerStorage', () => {
  let warn: jest.SpiedFunction<Logger['warn']>;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('counts in Redis: INCR, PEXPIRE … NX (the window starts once), PTTL, in one MULTI', async () => {
    const { storage, answerWith } = connection('7.0.15');
    const { client, queued } = fakeClient([3, 0, 59_500]);
    answerWith((command) => command(client as never));
    await expect(storage.increment('default:1.2.3.4', 60_000, 2, 0, 'default')).resolves.toEqual({
      totalHits: 3,
      timeToExpire: 60,
      isBlocked: true,
      timeToBlockExpire: 60,
    });
    const key = 'transform-api:rate:default:default:1.2.3.4';
    expect(queued).toEqual([['incr', key], ['pExpire', key, 60_000, 'NX'], ['pTTL', key]]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('counts in this process while Redis does not answer, and says so once each way', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-12-08T00:00:00Z') });
    const { storage, answerWith } = connection('7.2.4');
    for (let i = 1; i <= 3; i++) {
      const record = await storage.increment('default:ip', 60_000, 2, 0, 'default');
      expect(record).toMatchObject({ totalHits: i, isBlocked: i > 2 });
    }
    const { client } = fakeClient([1, 1, 60_000]);
    answerWith((command) => command(client as never));
    await expect(storage.increment('default:ip', 60_000, 2, 0, 'default')).resolves.toMatchObject({ totalHits: 1 });
    expect(warn).toHaveBeenCalledTimes(1);
    jest.setSystemTime(Date.now() + SHARED_AGAIN_AFTER_MS);
    await storage.increment('default:ip', 60_000, 2, 0, 'default');
    await storage.increment('default:ip', 60_000, 2, 0, 'default');
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis did not answer a rate-limit counter in time: rate limits are counted per replica until it does',
      'Rate limits are shared through Redis again',
    ]);
  });

  it('one shard away (every other counter falls back): one line, and "shared again" once none has for a while', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-12-08T00:00:00Z') });
    const { storage, answerWith } = connection('7.2.4');
    const { client } = fakeClient([1, 1, 60_000]);
    let request = 0;
    answerWith((command) => (request++ % 2 === 0 ? Promise.resolve(undefined) : command(client as never)));
    for (let i = 0; i < 100; i++) {
      await storage.increment(`default:ip${i}`, 60_000, 2, 0, 'default');
      jest.setSystemTime(Date.now() + 10);
    }
    expect(warn).toHaveBeenCalledTimes(1);
    answerWith((command) => command(client as never));
    for (let i = 0; i < 100; i++) {
      await storage.increment(`default:ip${i}`, 60_000, 2, 0, 'default');
      jest.setSystemTime(Date.now() + 10);
    }
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'Redis did not answer a rate-limit counter in time: rate limits are counted per replica until it does',
      'Rate limits are shared through Redis again',
    ]);
  });

  it('on a Redis older than 7.0, warns once at once and counts per replica without asking Redis', async () => {
    const { storage, redis, announce } = connection(undefined);
    announce('6.2.14');
    expect(warn.mock.calls.map(([message]) => message)).toEqual([expect.stringMatching(/^Redis 6\.2\.14 is older than 7\.0 .* counted per replica/)]);
    await expect(storage.increment('default:ip', 60_000, 5, 0, 'default')).resolves.toMatchObject({ totalHits: 1 });
    await expect(storage.increment('default:ip', 60_000, 5, 0, 'default')).resolves.toMatchObject({ totalHits: 2 });
    expect(redis.run).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('counts here, silently, until a connection has told the server version', async () => {
    const { storage, redis } = connection(undefined);
    await expect(storage.increment('default:ip', 60_000, 5, 0, 'default')).resolves.toMatchObject({ totalHits: 1 });
    expect(redis.run).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
  });

  it.each([
    ['7.0.0', true],
    ['7.2.4', true],
    ['8.0.1', true],
    ['6.2.14', false],
    ['5.0.7', false],
  ])('supportsExpireNx(%s) is %s', (version, expected) => {
    expect(supportsExpireNx(version)).toBe(expected);
  });
});
