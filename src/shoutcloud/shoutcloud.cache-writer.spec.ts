import { jest } from '@jest/globals';
import type { Cache } from '@nestjs/cache-manager';
import type { ConfigType } from '@nestjs/config';
import type { appConfig } from '../config/app.config.js';
import { SharedTierWriter, type SharedWriteOutcome } from './shoutcloud.cache-writer.js';
import type { shoutcloudConfig } from './shoutcloud.config.js';

/** A write held open until the test settles it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A writer over a store whose every `set` waits for the test. */
function writerWith(maxInFlight: number, shutdownGraceMs = 1000) {
  const sets: Array<ReturnType<typeof deferred<boolean>>> = [];
  const set = jest.fn((_key: string, _value: object, _ttl: number) => {
    const write = deferred<boolean>();
    sets.push(write);
    return write.promise;
  });
  const shared = { stores: [{ set }] } as unknown as Cache;
  const writer = new SharedTierWriter(
    shared,
    { cacheWritesMaxInFlight: maxInFlight } as ConfigType<typeof shoutcloudConfig>,
    { shutdownGraceMs } as ConfigType<typeof appConfig>,
  );
  const outcomes: SharedWriteOutcome[] = [];
  writer.onWrite((outcome) => outcomes.push(outcome));
  return { writer, set, sets, outcomes };
}

describe('SharedTierWriter', () => {
  it('returns at once, bounds the writes in flight, and counts each outcome', async () => {
    const { writer, set, sets, outcomes } = writerWith(2);
    writer.write('a', { output: 'A' }, 1000);
    writer.write('b', { output: 'B' }, 1000);
    writer.write('c', { output: 'C' }, 1000);
    expect(set.mock.calls.map(([key, value, ttl]) => [key, value, ttl])).toEqual([
      ['a', { output: 'A' }, 1000],
      ['b', { output: 'B' }, 1000],
    ]);
    expect(outcomes).toEqual(['dropped']);
    expect(writer.pending).toBe(2);
    sets[0].resolve(true);
    sets[1].resolve(false);
    await writer.settled();
    expect(outcomes).toEqual(['dropped', 'written', 'failed']);
    // Room again once the writes in flight have ended.
    writer.write('d', { output: 'D' }, 1000);
    expect(set).toHaveBeenCalledTimes(3);
  });

  it('counts a write that throws as failed, and never rejects', async () => {
    const { writer, sets, outcomes } = writerWith(1);
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      writer.write('a', {}, 1000);
      sets[0].reject(new Error('connection reset'));
      await writer.settled();
      await new Promise((resolve) => setImmediate(resolve));
      expect(outcomes).toEqual(['failed']);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('at shutdown, waits for the writes in flight', async () => {
    const { writer, sets, outcomes } = writerWith(4);
    writer.write('a', {}, 1000);
    let closed = false;
    const shutdown = writer.onApplicationShutdown().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    sets[0].resolve(true);
    await shutdown;
    expect(outcomes).toEqual(['written']);
  });

  it('at shutdown, stops waiting once the grace period has run out', async () => {
    jest.useFakeTimers();
    try {
      const { writer } = writerWith(4, 5000);
      writer.write('a', {}, 1000);
      let closed = false;
      const shutdown = writer.onApplicationShutdown().then(() => (closed = true));
      await jest.advanceTimersByTimeAsync(4999);
      expect(closed).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await shutdown;
      expect(closed).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
