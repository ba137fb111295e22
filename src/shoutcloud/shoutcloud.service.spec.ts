import { jest } from '@jest/globals';
import type { ConfigType } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { ShoutcloudCache, ShoutKey, type CachedShout } from './shoutcloud.cache.js';
import { ShoutcloudClient } from './shoutcloud.client.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { ShoutcloudBadReplyError, ShoutcloudDeadlineError, ShoutcloudUnavailableError } from './shoutcloud.errors.js';
import { Miss, ShoutcloudService, type Shout } from './shoutcloud.service.js';

const fresh = (output: string): CachedShout => ({ output, state: 'fresh' });
const expired = (output: string): CachedShout => ({ output, state: 'stale' });

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
    fromMemory: jest.fn((key: string) => memory.get(key)),
    fromRedis: jest.fn(async (key: ShoutKey) => redis.get(key.text)),
    remember: jest.fn((key: ShoutKey, output: string) => void memory.set(key.memory, fresh(output))),
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

/** What a caller does: the in-process lookup for every text, then one shout() for what it left. */
async function ask(service: ShoutcloudService, texts: readonly string[], signal: AbortSignal): Promise<Shout[]> {
  const found = texts.map((text) => service.fromMemory(text));
  const shouts = await service.shout(found.filter((each) => each instanceof Miss), signal);
  let next = 0;
  return found.map((each) => (each instanceof Miss ? shouts[next++] : each));
}
const down = () => Promise.reject(new ShoutcloudUnavailableError('down', 1));

describe('ShoutcloudService', () => {
  it('answers each text in order, from wherever it is', async () => {
    const { service, shout } = await serviceWith({ memory: { a: fresh('A') }, redis: { b: fresh('B') } });
    expect(await ask(service, ['a', 'b', 'c'], never)).toEqual([
      { output: 'A', provenance: 'memory' },
      { output: 'B', provenance: 'redis' },
      { output: 'C', provenance: 'upstream' },
    ]);
    expect(shout.mock.calls.map(([text]) => text)).toEqual(['c']);
  });

  it('answers a text fresh in memory synchronously, and hands on any other with its stale entry', async () => {
    const { service, cache } = await serviceWith({ memory: { a: fresh('A'), old: expired('OLD') } });
    const seen: string[] = [];
    service.onAnswer((answer) => seen.push(answer.provenance));
    expect(service.fromMemory('a')).toEqual({ output: 'A', provenance: 'memory' });
    const old = service.fromMemory('old');
    expect(old).toBeInstanceOf(Miss);
    expect(old).toMatchObject({ key: { text: 'old', memory: 'old' }, stale: { output: 'OLD' } });
    expect(service.fromMemory('unknown')).toMatchObject({ key: { text: 'unknown' }, stale: undefined });
    expect(cache.fromRedis).not.toHaveBeenCalled();
    expect(seen).toEqual(['memory']);
  });

  it('reads the in-process tier once per text, and keeps its stale entry to serve when Shoutcloud gives no answer', async () => {
    const { service, cache } = await serviceWith({ shout: down, memory: { old: expired('OLD') } });
    expect(await ask(service, ['old'], never)).toEqual([{ output: 'OLD', provenance: 'stale' }]);
    expect(cache.fromMemory).toHaveBeenCalledTimes(1);
    expect(cache.fromRedis).toHaveBeenCalledTimes(1);
  });

  it('keys a text too long for V8 to hash by its digest, computed once, in memory, among flights and in Redis', async () => {
    const upstream = deferred<string>();
    const long = '😀'.repeat(8_192);
    const { service, shout, cache } = await serviceWith({ shout: () => upstream.promise });
    const first = ask(service, [long], never);
    const second = ask(service, [long], never);
    upstream.resolve(long);
    expect(await Promise.all([first, second])).toEqual([
      [{ output: long, provenance: 'upstream' }],
      [{ output: long, provenance: 'upstream' }],
    ]);
    expect(shout).toHaveBeenCalledTimes(1);
    const key = cache.fromMemory.mock.calls[0][0];
    expect(key).toMatch(/^\ud800[\w-]{43}$/);
    const [[shoutKey]] = cache.fromRedis.mock.calls;
    expect(shoutKey).toMatchObject({ text: long, memory: key, shared: key.slice(1) });
    expect(cache.remember).toHaveBeenCalledWith(shoutKey, long);
  });

  it('keeps what Shoutcloud answered and serves it from memory next time', async () => {
    const { service, shout, cache } = await serviceWith({});
    await ask(service, ['x'], never);
    expect(cache.remember).toHaveBeenCalledWith(expect.objectContaining({ text: 'x', memory: 'x' }), 'X');
    expect(await ask(service, ['x'], never)).toEqual([{ output: 'X', provenance: 'memory' }]);
    expect(shout).toHaveBeenCalledTimes(1);
  });

  it('answers once the in-process tier holds the answer, without waiting for the shared tier', async () => {
    const { service, cache } = await serviceWith({});
    cache.remember.mockImplementation(() => undefined);
    expect(await ask(service, ['x'], never)).toEqual([{ output: 'X', provenance: 'upstream' }]);
    // remember() is synchronous: the answer cannot have waited for a Redis write.
    expect(cache.remember.mock.results[0]).toEqual({ type: 'return', value: undefined });
  });

  it('makes one Redis lookup and one upstream call for concurrent callers of one text', async () => {
    const upstream = deferred<string>();
    const { service, shout, cache } = await serviceWith({ shout: () => upstream.promise });
    const answers = Promise.all(Array.from({ length: 40 }, () => ask(service, ['herd'], new AbortController().signal)));
    upstream.resolve('HERD');
    expect((await answers).flat()).toEqual(Array(40).fill({ output: 'HERD', provenance: 'upstream' }));
    expect(shout).toHaveBeenCalledTimes(1);
    expect(cache.fromRedis).toHaveBeenCalledTimes(1);
  });

  it('serves a stale entry when Shoutcloud gives no answer, before any fallback', async () => {
    const { service } = await serviceWith({ shout: down, memory: { m: expired('M') }, redis: { r: expired('R') }, fallback: 'local' });
    expect(await ask(service, ['m', 'r'], never)).toEqual([
      { output: 'M', provenance: 'stale' },
      { output: 'R', provenance: 'stale' },
    ]);
  });

  it('asks Shoutcloud, not the stale entry, while Shoutcloud answers', async () => {
    const { service } = await serviceWith({ memory: { m: expired('OLD') } });
    expect(await ask(service, ['m'], never)).toEqual([{ output: 'M', provenance: 'upstream' }]);
  });

  it('falls back to local upper-casing only when asked to, and does not keep it', async () => {
    const off = await serviceWith({ shout: down });
    await expect(ask(off.service, ['straße'], never)).rejects.toBeInstanceOf(ShoutcloudUnavailableError);
    const local = await serviceWith({ shout: down, fallback: 'local' });
    expect(await ask(local.service, ['straße'], never)).toEqual([{ output: 'STRAßE', provenance: 'fallback' }]);
    expect(local.cache.remember).not.toHaveBeenCalled();
  });

  it('rethrows errors that are not Shoutcloud failures', async () => {
    const { service } = await serviceWith({ shout: () => Promise.reject(new TypeError('bug')), fallback: 'local' });
    await expect(ask(service, ['x'], never)).rejects.toBeInstanceOf(TypeError);
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
    const first = ask(service, ['x'], a.signal);
    const second = ask(service, ['x'], b.signal);
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
    const first = ask(service, ['x'], leaving.signal);
    leaving.abort(new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    expect(await ask(service, ['x'], never)).toEqual([{ output: 'X', provenance: 'upstream' }]);
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
    const answer = ask(service, ['x'], deadline.signal);
    deadline.abort(new ShoutcloudDeadlineError(100));
    if (typeof expected === 'function') await expect(answer).rejects.toBeInstanceOf(expected);
    else expect(await answer).toEqual([expected]);
  });

  it('tells its listeners of every answer, by provenance', async () => {
    const { service } = await serviceWith({});
    const seen: string[] = [];
    service.onAnswer((answer) => seen.push(answer.provenance));
    await ask(service, ['a'], never);
    await ask(service, ['a', 'b'], never);
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
    expect(await ask(service, ['a', 'b', 'c😀', 'a'], never)).toEqual([
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
    await ask(service, ['one'], never);
    await ask(service, ['two'], never);
    expect(shout.mock.calls.map(([text]) => text)).toEqual(['one', 'two']);
  });

  it('sends again alone only the text whose answer is not its case variant; alone, it is a bad reply', async () => {
    const { service, shout, memory } = await serviceWith({ coalesce: true, shout: async (text) => text.toUpperCase() });
    const mismatches: Array<[number, number]> = [];
    service.onMismatch(({ texts, rejected }) => mismatches.push([texts, rejected]));
    await expect(ask(service, ['ß', 'x'], never)).rejects.toBeInstanceOf(ShoutcloudBadReplyError);
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
    expect(await ask(service, ['ß'], never)).toEqual([{ output: 'ß', provenance: 'fallback' }]);
  });

  it('makes one upstream call for a herd on one text: the flight is shared above the batcher', async () => {
    const call = deferred<string>();
    const { service, shout } = await serviceWith({ coalesce: true, shout: () => call.promise });
    const herd = Array.from({ length: 100 }, () => ask(service, ['same'], never));
    await new Promise((resolve) => setImmediate(resolve));
    call.resolve('SAME');
    for (const answer of await Promise.all(herd)) expect(answer).toEqual([{ output: 'SAME', provenance: 'upstream' }]);
    expect(shout).toHaveBeenCalledTimes(1);
  });

  it('with batching off, sends every miss alone at once', async () => {
    const calls = [deferred<string>(), deferred<string>(), deferred<string>()];
    const { service, shout } = await serviceWith({ coalesce: false, shout: () => calls[shout.mock.calls.length - 1].promise });
    const answers = ask(service, ['a', 'b', 'c'], never);
    await new Promise((resolve) => setImmediate(resolve));
    expect(shout.mock.calls.map(([text]) => text)).toEqual(['a', 'b', 'c']);
    calls.forEach((call, i) => call.resolve('ABC'[i]));
    expect((await answers).map(({ output }) => output)).toEqual(['A', 'B', 'C']);
  });
});
