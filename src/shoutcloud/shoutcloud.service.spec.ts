import { jest } from '@jest/globals';
import type { ConfigType } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { ShoutcloudCache, type CachedShout } from './shoutcloud.cache.js';
import { ShoutcloudClient } from './shoutcloud.client.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { ShoutcloudBadReplyError, ShoutcloudDeadlineError, ShoutcloudUnavailableError } from './shoutcloud.errors.js';
import { ShoutcloudService, type Shout } from './shoutcloud.service.js';

const fresh = (output: string): CachedShout => ({ output, freshUntil: Date.now() + 60_000 });
const expired = (output: string): CachedShout => ({ output, freshUntil: Date.now() - 1 });

/** A promise settled from outside, to hold an upstream call open until a test lets it go. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

interface Setup {
  shout?: (text: string, signal: AbortSignal) => Promise<string>;
  memory?: Record<string, CachedShout>;
  redis?: Record<string, CachedShout>;
  fallback?: 'off' | 'local';
  coalesce?: boolean;
}

/** The service with a scripted upstream and two map-backed tiers. */
async function serviceWith(setup: Setup) {
  const memory = new Map(Object.entries(setup.memory ?? {}));
  const redis = new Map(Object.entries(setup.redis ?? {}));
  const shout = jest.fn(setup.shout ?? (async (text: string) => text.toUpperCase()));
  const cache = {
    fromMemory: jest.fn((text: string, _key?: string) => memory.get(text)),
    fromRedis: jest.fn(async (text: string) => redis.get(text)),
    remember: jest.fn(async (text: string, output: string) => void memory.set(text, fresh(output))),
  };
  const module = await Test.createTestingModule({
    providers: [
      ShoutcloudService,
      { provide: ShoutcloudClient, useValue: { shout } },
      { provide: ShoutcloudCache, useValue: cache },
      {
        provide: shoutcloudConfig.KEY,
        useValue: {
          fallback: setup.fallback ?? 'off',
          coalesce: setup.coalesce ?? false,
          coalesceMaxBytes: 1024,
          maxCallsInFlight: 1,
          queueMaxBytes: 4096,
        } as ConfigType<typeof shoutcloudConfig>,
      },
    ],
  }).compile();
  return { service: module.get(ShoutcloudService), shout, cache, memory };
}

const never = new AbortController().signal;
const down = () => Promise.reject(new ShoutcloudUnavailableError('down', 1));

describe('ShoutcloudService', () => {
  it('answers each text in order, from wherever it is', async () => {
    const { service, shout } = await serviceWith({ memory: { a: fresh('A') }, redis: { b: fresh('B') } });
    expect(await service.shout(['a', 'b', 'c'], never)).toEqual([
      { output: 'A', provenance: 'memory' },
      { output: 'B', provenance: 'redis' },
      { output: 'C', provenance: 'upstream' },
    ]);
    expect(shout.mock.calls.map(([text]) => text)).toEqual(['c']);
  });

  it('answers from memory synchronously only when every text is fresh there, and says so', async () => {
    const { service, cache } = await serviceWith({ memory: { a: fresh('A'), b: fresh('B'), old: expired('OLD') } });
    const seen: string[] = [];
    service.onAnswer((answer) => seen.push(answer.provenance));
    expect(service.fromMemory(['a', 'b'])).toEqual([
      { output: 'A', provenance: 'memory' },
      { output: 'B', provenance: 'memory' },
    ]);
    expect(service.fromMemory(['a', 'old'])).toBeUndefined();
    expect(service.fromMemory(['a', 'unknown'])).toBeUndefined();
    expect(service.fromMemory([])).toEqual([]);
    expect(cache.fromRedis).not.toHaveBeenCalled();
    expect(seen).toEqual(['memory', 'memory']);
  });

  it('reads the in-process tier once per text, and keeps its stale entry to serve when Shoutcloud gives no answer', async () => {
    const { service, cache } = await serviceWith({ shout: down, memory: { old: expired('OLD') } });
    expect(await service.shout(['old'], never)).toEqual([{ output: 'OLD', provenance: 'stale' }]);
    expect(cache.fromMemory).toHaveBeenCalledTimes(1);
    expect(cache.fromRedis).toHaveBeenCalledTimes(1);
  });

  it('keys a text too long for V8 to hash by its digest, in memory and among flights', async () => {
    const upstream = deferred<string>();
    const long = '😀'.repeat(8_192);
    const { service, shout, cache } = await serviceWith({ shout: () => upstream.promise });
    const first = service.shout([long], never);
    const second = service.shout([long], never);
    upstream.resolve(long);
    expect(await Promise.all([first, second])).toEqual([
      [{ output: long, provenance: 'upstream' }],
      [{ output: long, provenance: 'upstream' }],
    ]);
    expect(shout).toHaveBeenCalledTimes(1);
    const key = cache.fromMemory.mock.calls[0][1];
    expect(key).toMatch(/^\ud800[\w-]{43}$/);
    expect(cache.fromRedis).toHaveBeenCalledWith(long, key);
    expect(cache.remember).toHaveBeenCalledWith(long, long, key);
  });

  it('keeps what Shoutcloud answered and serves it from memory next time', async () => {
    const { service, shout, cache } = await serviceWith({});
    await service.shout(['x'], never);
    expect(cache.remember).toHaveBeenCalledWith('x', 'X', 'x');
    expect(await service.shout(['x'], never)).toEqual([{ output: 'X', provenance: 'memory' }]);
    expect(shout).toHaveBeenCalledTimes(1);
  });

  it('makes one Redis lookup and one upstream call for concurrent callers of one text', async () => {
    const upstream = deferred<string>();
    const { service, shout, cache } = await serviceWith({ shout: () => upstream.promise });
    const answers = Promise.all(Array.from({ length: 40 }, () => service.shout(['herd'], new AbortController().signal)));
    upstream.resolve('HERD');
    expect((await answers).flat()).toEqual(Array(40).fill({ output: 'HERD', provenance: 'upstream' }));
    expect(shout).toHaveBeenCalledTimes(1);
    expect(cache.fromRedis).toHaveBeenCalledTimes(1);
  });

  it('serves a stale entry when Shoutcloud gives no answer, before any fallback', async () => {
    const { service } = await serviceWith({ shout: down, memory: { m: expired('M') }, redis: { r: expired('R') }, fallback: 'local' });
    expect(await service.shout(['m', 'r'], never)).toEqual([
      { output: 'M', provenance: 'stale' },
      { output: 'R', provenance: 'stale' },
    ]);
  });

  it('asks Shoutcloud, not the stale entry, while Shoutcloud answers', async () => {
    const { service } = await serviceWith({ memory: { m: expired('OLD') } });
    expect(await service.shout(['m'], never)).toEqual([{ output: 'M', provenance: 'upstream' }]);
  });

  it('falls back to local upper-casing only when asked to, and does not keep it', async () => {
    const off = await serviceWith({ shout: down });
    await expect(off.service.shout(['straße'], never)).rejects.toBeInstanceOf(ShoutcloudUnavailableError);
    const local = await serviceWith({ shout: down, fallback: 'local' });
    expect(await local.service.shout(['straße'], never)).toEqual([{ output: 'STRAßE', provenance: 'fallback' }]);
    expect(local.cache.remember).not.toHaveBeenCalled();
  });

  it('rethrows errors that are not Shoutcloud failures', async () => {
    const { service } = await serviceWith({ shout: () => Promise.reject(new TypeError('bug')), fallback: 'local' });
    await expect(service.shout(['x'], never)).rejects.toBeInstanceOf(TypeError);
  });

  it('rejects each caller with its own reason; the upstream call is cancelled once the last one has gone', async () => {
    const called = deferred<AbortSignal>();
    const { service } = await serviceWith({
      shout: (_text, signal) => {
        called.resolve(signal);
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    });
    const [a, b] = [new AbortController(), new AbortController()];
    const first = service.shout(['x'], a.signal);
    const second = service.shout(['x'], b.signal);
    const upstreamSignal = await called.promise;
    const gone = new Error('client gone');
    a.abort(gone);
    await expect(first).rejects.toBe(gone);
    expect(upstreamSignal.aborted).toBe(false);
    const alsoGone = new Error('also gone');
    b.abort(alsoGone);
    await expect(second).rejects.toBe(alsoGone);
    expect(upstreamSignal.reason).toBe(alsoGone);
  });

  it('a caller arriving after every other one left starts a flight of its own', async () => {
    const { service, shout } = await serviceWith({ shout: async (text, signal) => (signal.aborted ? Promise.reject(signal.reason) : text.toUpperCase()) });
    const leaving = new AbortController();
    const first = service.shout(['x'], leaving.signal);
    leaving.abort(new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    expect(await service.shout(['x'], never)).toEqual([{ output: 'X', provenance: 'upstream' }]);
    // The abandoned flight's text never reached Shoutcloud; the new one did, and was not cancelled.
    expect(shout.mock.calls.map(([text, signal]) => [text, signal.aborted])).toEqual([['x', false]]);
  });

  it.each<[string, Setup, Shout | typeof ShoutcloudDeadlineError]>([
    ['a stale entry', { memory: { x: expired('STALE X') } }, { output: 'STALE X', provenance: 'stale' }],
    ['the fallback', { fallback: 'local' }, { output: 'X', provenance: 'fallback' }],
    ['the deadline error', {}, ShoutcloudDeadlineError],
  ])('a deadline that runs out mid-call gets %s', async (_name, setup, expected) => {
    const { service } = await serviceWith({ ...setup, shout: (_text, signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))) });
    const deadline = new AbortController();
    const answer = service.shout(['x'], deadline.signal);
    deadline.abort(new ShoutcloudDeadlineError(100));
    if (typeof expected === 'function') await expect(answer).rejects.toBeInstanceOf(expected);
    else expect(await answer).toEqual([expected]);
  });

  it('tells its listeners of every answer, by provenance', async () => {
    const { service } = await serviceWith({});
    const seen: string[] = [];
    service.onAnswer((answer) => seen.push(answer.provenance));
    await service.shout(['a'], never);
    await service.shout(['a', 'b'], never);
    expect(seen.sort()).toEqual(['memory', 'upstream', 'upstream']);
  });
});

/** The texts of a call's question: between its separators (control character, digits, control character). */
const textsOf = (question: string) => question.split('\u001e').filter((_part, index) => index % 2 === 0);

describe('ShoutcloudService with batching on', () => {
  it('sends the misses of one request in one upstream call and caches each answer on its own', async () => {
    const { service, shout, memory } = await serviceWith({ coalesce: true, memory: { b: fresh('B') } });
    const calls: number[] = [];
    service.onCall(({ texts }) => calls.push(texts));
    expect(await service.shout(['a', 'b', 'c😀', 'a'], never)).toEqual([
      { output: 'A', provenance: 'upstream' },
      { output: 'B', provenance: 'memory' },
      { output: 'C😀', provenance: 'upstream' },
      { output: 'A', provenance: 'upstream' },
    ]);
    // 'a' twice is one flight; 'b' was cached.
    expect(shout.mock.calls.map(([text]) => textsOf(text))).toEqual([['a', 'c😀']]);
    expect(calls).toEqual([2]);
    expect(memory.get('c😀')?.output).toBe('C😀');
  });

  it('sends a lone miss alone', async () => {
    const { service, shout } = await serviceWith({ coalesce: true });
    await service.shout(['one'], never);
    await service.shout(['two'], never);
    expect(shout.mock.calls.map(([text]) => text)).toEqual(['one', 'two']);
  });

  it('sends again alone only the text whose answer is not its case variant; alone, it is a bad reply', async () => {
    const { service, shout, memory } = await serviceWith({ coalesce: true, shout: async (text) => text.toUpperCase() });
    const mismatches: Array<[number, number]> = [];
    service.onMismatch(({ texts, rejected }) => mismatches.push([texts, rejected]));
    await expect(service.shout(['ß', 'x'], never)).rejects.toBeInstanceOf(ShoutcloudBadReplyError);
    expect(mismatches).toEqual([
      [2, 1],
      [1, 1],
    ]);
    expect(shout.mock.calls.map(([text]) => textsOf(text))).toEqual([['ß', 'x'], ['ß']]);
    expect(memory.get('x')?.output).toBe('X');
    expect(memory.has('ß')).toBe(false);
  });

  it('answers a lone reply of the wrong length locally with the fallback on', async () => {
    const { service } = await serviceWith({ coalesce: true, fallback: 'local', shout: async (text) => text.toUpperCase() });
    expect(await service.shout(['ß'], never)).toEqual([{ output: 'ß', provenance: 'fallback' }]);
  });

  it('makes one upstream call for a herd on one text: the flight is shared above the batcher', async () => {
    const call = deferred<string>();
    const { service, shout } = await serviceWith({ coalesce: true, shout: () => call.promise });
    const herd = Array.from({ length: 100 }, () => service.shout(['same'], never));
    await new Promise((resolve) => setImmediate(resolve));
    call.resolve('SAME');
    for (const answer of await Promise.all(herd)) expect(answer).toEqual([{ output: 'SAME', provenance: 'upstream' }]);
    expect(shout).toHaveBeenCalledTimes(1);
  });

  it('with batching off, sends every miss alone at once', async () => {
    const calls = [deferred<string>(), deferred<string>(), deferred<string>()];
    const { service, shout } = await serviceWith({ coalesce: false, shout: () => calls[shout.mock.calls.length - 1].promise });
    const answers = service.shout(['a', 'b', 'c'], never);
    await new Promise((resolve) => setImmediate(resolve));
    expect(shout.mock.calls.map(([text]) => text)).toEqual(['a', 'b', 'c']);
    calls.forEach((call, i) => call.resolve('ABC'[i]));
    expect((await answers).map(({ output }) => output)).toEqual(['A', 'B', 'C']);
  });
});
