import { jest } from '@jest/globals';
import type { HttpService } from '@nestjs/axios';
import type { ConfigType } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { AxiosError, type AxiosResponse } from 'axios';
import { ShoutcloudClient } from './shoutcloud.client.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { ShoutcloudBadReplyError, ShoutcloudDeadlineError, ShoutcloudUnavailableError } from './shoutcloud.errors.js';

type Reply = { status: number; data: string | Buffer; headers?: Record<string, string> } | Error;
const ok = (output: string) => ({ status: 200, data: JSON.stringify({ INPUT: output.toLowerCase(), OUTPUT: output }) });

const config: ConfigType<typeof shoutcloudConfig> = {
  url: 'http://shoutcloud.test',
  timeoutMs: 1000,
  retries: 2,
  retryBudgetPercent: 1000,
  breakerThreshold: 5,
  breakerHalfOpenMs: 10_000,
  fallback: 'off',
  coalesce: false,
  coalesceMaxBytes: 65_536,
  maxCallsInFlight: 1,
  queueMaxBytes: 1_048_576,
  // Off here: these tests script single tries; the hedge has its own describe below.
  hedge: false,
  hedgeMinMs: 50,
  hedgeMaxMs: 500,
  cacheTtlMs: 1000,
  cacheStaleMs: 1000,
  cacheMaxBytes: 1024 * 1024,
  cacheMaxEntries: 100,
  cacheWritesMaxInFlight: 100,
};

/** The client with a scripted HTTP layer: decisions only, no network (e2e tests cover that). */
async function clientAnswering(replies: Reply[], overrides: Partial<typeof config> = {}) {
  const post = jest.fn(async (_url: string, _body: string, _options: { maxContentLength: number }): Promise<AxiosResponse<Buffer>> => {
    const reply: Reply = replies.shift() ?? ok('DEFAULT');
    if (reply instanceof Error) throw reply;
    return { status: reply.status, data: Buffer.from(reply.data), headers: reply.headers ?? {}, statusText: '', config: {} as never };
  });
  const module = await Test.createTestingModule({
    providers: [
      ShoutcloudClient,
      { provide: shoutcloudConfig.KEY, useValue: { ...config, ...overrides } },
      { provide: (await import('@nestjs/axios')).HttpService, useValue: { axiosRef: { post, defaults: {} } } as unknown as HttpService },
    ],
  }).compile();
  return { client: module.get(ShoutcloudClient), post };
}

/** Runs `shout` to completion while fake timers drive the backoff delays, in small steps. */
async function settle<T>(promise: Promise<T>): Promise<T | unknown> {
  let done = false;
  const outcome = promise.then(
    (value) => value,
    (error: unknown) => error,
  ).finally(() => (done = true));
  while (!done) await jest.advanceTimersByTimeAsync(10);
  return outcome;
}

describe('ShoutcloudClient retry decisions', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it.each<[string, Reply[], number, string | (new (...args: never[]) => Error)]>([
    ['succeeds at once', [ok('ABC')], 1, 'ABC'],
    ['retries two 503s, then succeeds', [{ status: 503, data: '' }, { status: 503, data: '' }, ok('ABC')], 3, 'ABC'],
    ['retries a 429', [{ status: 429, data: '' }, ok('ABC')], 2, 'ABC'],
    ['retries a connection reset', [new AxiosError('socket hang up', 'ECONNRESET'), ok('ABC')], 2, 'ABC'],
    ['gives up after 1 + 2 tries of 5xx → 503', Array(5).fill({ status: 500, data: '' }), 3, ShoutcloudUnavailableError],
    ['does not retry a 400 → 502', [{ status: 400, data: 'Bad Request' }], 1, ShoutcloudBadReplyError],
    ['does not retry a 404 → 502', [{ status: 404, data: '' }], 1, ShoutcloudBadReplyError],
    ['does not retry a body that is not JSON → 502', [{ status: 200, data: '<html>' }], 1, ShoutcloudBadReplyError],
    ['does not retry JSON without OUTPUT → 502', [{ status: 200, data: '{"INPUT":"x"}' }], 1, ShoutcloudBadReplyError],
    ['does not retry a non-string OUTPUT → 502', [{ status: 200, data: '{"OUTPUT":42}' }], 1, ShoutcloudBadReplyError],
    ['does not retry a redirect → 502', [{ status: 301, data: '' }], 1, ShoutcloudBadReplyError],
    ['does not retry a body that is not UTF-8 → 502', [{ status: 200, data: Buffer.from([0x7b, 0xff, 0x7d]) }], 1, ShoutcloudBadReplyError],
    [
      'does not retry a reply over the size bound → 502',
      [new AxiosError('maxContentLength size of 1048576 exceeded', AxiosError.ERR_BAD_RESPONSE)],
      1,
      ShoutcloudBadReplyError,
    ],
    ['retries a body cut short by the connection', [new AxiosError('other side closed', 'UND_ERR_SOCKET'), ok('ABC')], 2, 'ABC'],
  ])('%s', async (_name, replies, expectedTries, expected) => {
    const { client, post } = await clientAnswering(replies);
    const result = await settle(client.shout('abc', new AbortController().signal));
    if (typeof expected === 'string') expect(result).toBe(expected);
    else expect(result).toBeInstanceOf(expected);
    expect(post).toHaveBeenCalledTimes(expectedTries);
  });

  // The exact `Content-Type: application/json` is set on the HTTP module's axios defaults and
  // proven end to end: the bundled server answers 400 to anything else (test/transform.e2e-spec.ts).
  it('posts {"INPUT": text} to /V1/SHOUT', async () => {
    const { client, post } = await clientAnswering([ok('X')]);
    await settle(client.shout('x', new AbortController().signal));
    const [url, body] = post.mock.calls[0] as unknown as [string, string];
    expect(url).toBe('http://shoutcloud.test/V1/SHOUT');
    expect(JSON.parse(body)).toEqual({ INPUT: 'x' });
  });

  it.each([
    ['x', 1024 * 1024],
    ['<'.repeat(100_000), 12 * Buffer.byteLength(JSON.stringify({ INPUT: '<'.repeat(100_000) }))],
  ])('bounds the reply to a question of %#: %i bytes', async (text, limit) => {
    const { client, post } = await clientAnswering([ok('X')]);
    await settle(client.shout(text, new AbortController().signal));
    expect(post.mock.calls[0][2]).toMatchObject({ maxContentLength: limit });
  });

  const busy = (status: number, retryAfter?: string): Reply => ({
    status,
    data: '',
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  });

  it.each<[string, Reply[], number, number]>([
    ["a 429's Retry-After", [busy(429, '20')], 20, 1],
    ["a 503's Retry-After", [busy(503, '7')], 7, 1],
    ['at most 300 s', [busy(429, '3600')], 300, 1],
    ['at least 1 s', [busy(429, '0')], 1, 1],
    ['none from a 500', [busy(500, '60'), busy(500, '60'), busy(500, '60')], 1, 3],
    ['none from a 429 without one', [busy(429), busy(429), busy(429)], 1, 3],
    ['none from a connection error', [1, 2, 3].map(() => new AxiosError('connect ECONNREFUSED', 'ECONNREFUSED')), 1, 3],
  ])('obeys %s: no retry within it, and passes it on', async (_name, replies, seconds, tries) => {
    const { client, post } = await clientAnswering(replies);
    const error = await settle(client.shout('abc', new AbortController().signal));
    expect(error).toBeInstanceOf(ShoutcloudUnavailableError);
    expect((error as ShoutcloudUnavailableError).retryAfterSeconds).toBe(seconds);
    expect((error as ShoutcloudUnavailableError).headers).toEqual({ 'retry-after': String(seconds) });
    expect(post).toHaveBeenCalledTimes(tries);
  });

  it("sends nothing until Shoutcloud's Retry-After has passed, and tells each caller the time left", async () => {
    const { client, post } = await clientAnswering([busy(503, '120'), ok('LATER')]);
    await settle(client.shout('first', new AbortController().signal));
    jest.advanceTimersByTime(100_500);
    const paused = await settle(client.shout('second', new AbortController().signal));
    expect(paused).toBeInstanceOf(ShoutcloudUnavailableError);
    expect((paused as ShoutcloudUnavailableError).retryAfterSeconds).toBe(20);
    expect(post).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(20_000);
    expect(await settle(client.shout('later', new AbortController().signal))).toBe('LATER');
    expect(post).toHaveBeenCalledTimes(2);
  });

  it('counts unusable replies towards the breaker', async () => {
    const { client } = await clientAnswering(Array(5).fill({ status: 200, data: Buffer.from([0xff]) }), { retries: 0 });
    const outcomes: string[] = [];
    client.onTry(({ outcome }) => outcomes.push(outcome));
    for (let i = 0; i < 5; i++) expect(await settle(client.shout(`x${i}`, new AbortController().signal))).toBeInstanceOf(ShoutcloudBadReplyError);
    expect(outcomes).toEqual(Array(5).fill('malformed'));
    expect(client.breakerState).toBe('open');
  });

  it('opens the breaker after 5 consecutive failed tries and then fails fast with Retry-After', async () => {
    const { client, post } = await clientAnswering(Array(10).fill({ status: 503, data: '' }), { retries: 0 });
    for (let i = 0; i < 5; i++) await settle(client.shout(`x${i}`, new AbortController().signal));
    expect(client.breakerState).toBe('open');
    const error = await settle(client.shout('y', new AbortController().signal));
    expect(error).toBeInstanceOf(ShoutcloudUnavailableError);
    expect((error as ShoutcloudUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(post).toHaveBeenCalledTimes(5);
  });

  it('4xx replies do not count towards the breaker', async () => {
    const { client } = await clientAnswering(Array(10).fill({ status: 400, data: '' }), { retries: 0 });
    for (let i = 0; i < 8; i++) await settle(client.shout(`x${i}`, new AbortController().signal));
    expect(client.breakerState).toBe('closed');
  });

  it('callers giving up mid-try do not count towards the breaker; per-try timeouts do', async () => {
    const hanging = jest.fn(
      (_url: string, _body: string, options: { signal: AbortSignal }) =>
        new Promise<never>((_resolve, reject) => options.signal.addEventListener('abort', () => reject(new AxiosError('canceled', 'ERR_CANCELED')))),
    );
    const { client } = await clientAnswering([], { retries: 0 });
    (client as unknown as { http: { axiosRef: { post: unknown } } }).http.axiosRef.post = hanging;
    const events: string[] = [];
    client.onTry(({ outcome }) => events.push(outcome));
    for (let i = 0; i < 8; i++) {
      const caller = new AbortController();
      const pending = client.shout(`gone${i}`, caller.signal);
      await jest.advanceTimersByTimeAsync(10);
      const reason = new Error('the caller left');
      caller.abort(reason);
      expect(await settle(pending)).toBe(reason);
    }
    expect(events).toEqual(Array(8).fill('cancelled'));
    expect(client.breakerState).toBe('closed');
    for (let i = 0; i < 5; i++) expect(await settle(client.shout(`slow${i}`, new AbortController().signal))).toBeInstanceOf(ShoutcloudUnavailableError);
    expect(client.breakerState).toBe('open');
  });

  it('a signal aborted during a backoff ends the call with its reason, and no further try is sent', async () => {
    const { client, post } = await clientAnswering([{ status: 503, data: '' }, ok('LATE')]);
    // Full jitter draws the backoff from [0, 50) ms: a draw of 0 would retry before the abort.
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const deadline = new AbortController();
    const pending = client.shout('x', deadline.signal);
    await jest.advanceTimersByTimeAsync(0);
    deadline.abort(new ShoutcloudDeadlineError(3000));
    expect(await settle(pending)).toBeInstanceOf(ShoutcloudDeadlineError);
    expect(post).toHaveBeenCalledTimes(1);
  });

  it('tells its listeners of every try and every retry', async () => {
    const { client } = await clientAnswering([{ status: 503, data: '' }, ok('ABC')]);
    const tries: string[] = [];
    let retries = 0;
    client.onTry(({ outcome }) => tries.push(outcome));
    client.onRetry(() => retries++);
    await settle(client.shout('abc', new AbortController().signal));
    expect(tries).toEqual(['status_5xx', 'success']);
    expect(retries).toBe(1);
  });

  it('stops retrying when the retry budget is spent', async () => {
    const { client, post } = await clientAnswering(Array(100).fill({ status: 503, data: '' }), {
      retryBudgetPercent: 0,
      breakerThreshold: 1000,
    });
    // A floor of 10 retries per window, then none: 20 requests make 20 first tries + 10 retries.
    for (let i = 0; i < 20; i++) await settle(client.shout(`x${i}`, new AbortController().signal));
    expect(post).toHaveBeenCalledTimes(30);
  });
});

describe('ShoutcloudClient hedged tries', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /**
   * A client whose every try answers after `latencyOf(try number)` ms of fake time, or 503s when
   * that is 'fail'; a try whose signal aborts rejects as axios does.
   */
  async function clientWithLatencies(latencyOf: (tryNumber: number) => number | 'fail', overrides: Partial<typeof config> = {}) {
    const { client } = await clientAnswering([], { hedge: true, ...overrides });
    const signals: AbortSignal[] = [];
    const post = jest.fn((_url: string, body: string, options: { signal: AbortSignal }) => {
      signals.push(options.signal);
      const latency = latencyOf(signals.length);
      return new Promise<AxiosResponse<Buffer>>((resolve, reject) => {
        const reply = latency === 'fail' ? { status: 503, data: '' } : ok((JSON.parse(body) as { INPUT: string }).INPUT.toUpperCase());
        const answer = { status: reply.status, data: Buffer.from(reply.data), headers: {}, statusText: '', config: {} as never };
        const timer = setTimeout(() => resolve(answer), latency === 'fail' ? 1 : latency);
        options.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new AxiosError('canceled', 'ERR_CANCELED'));
        });
      });
    });
    (client as unknown as { http: { axiosRef: { post: unknown } } }).http.axiosRef.post = post;
    const outcomes: string[] = [];
    client.onTry(({ outcome }) => outcomes.push(outcome));
    let hedges = 0;
    client.onHedge(() => hedges++);
    return { client, post, signals, outcomes, hedges: () => hedges };
  }

  const learn = async (client: ShoutcloudClient, count = 20) => {
    for (let i = 0; i < count; i++) await settle(client.shout(`warm${i}`, new AbortController().signal));
  };

  it('hedges a try that runs past the learned delay; the first answer wins and the slow try is cancelled', async () => {
    const { client, post, signals, outcomes, hedges } = await clientWithLatencies((n) => (n === 21 ? 60_000 : 10));
    await learn(client);
    const result = client.shout('slow', new AbortController().signal);
    // 20 tries of 10 ms: 1.2 × 10 is below the 50 ms minimum, so the hedge starts at 50 ms.
    await jest.advanceTimersByTimeAsync(49);
    expect(post).toHaveBeenCalledTimes(21);
    await jest.advanceTimersByTimeAsync(1);
    expect(post).toHaveBeenCalledTimes(22);
    expect(await settle(result)).toBe('SLOW');
    expect(signals[20].aborted).toBe(true);
    expect(hedges()).toBe(1);
    expect(outcomes.slice(20)).toEqual(['success', 'hedge_lost']);
    expect(client.breakerState).toBe('closed');
  });

  it('does not hedge before it has learned from 20 tries', async () => {
    const { client, post, hedges } = await clientWithLatencies((n) => (n === 19 ? 800 : 10));
    await learn(client, 19);
    expect(post).toHaveBeenCalledTimes(19);
    expect(hedges()).toBe(0);
  });

  it('does not hedge a half-open probe', async () => {
    const { client, post, hedges } = await clientWithLatencies((n) => (n <= 20 ? 10 : n <= 25 ? 'fail' : 900), { retries: 0 });
    await learn(client);
    for (let i = 0; i < 5; i++) await settle(client.shout(`down${i}`, new AbortController().signal));
    expect(client.breakerState).toBe('open');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(await settle(client.shout('probe', new AbortController().signal))).toBe('PROBE');
    expect(post).toHaveBeenCalledTimes(26);
    expect(hedges()).toBe(0);
  });

  it('stops hedging when the retry budget is spent', async () => {
    const { client, post, hedges } = await clientWithLatencies((n) => (n > 20 && n % 2 === 1 ? 60_000 : 10), { retryBudgetPercent: 0 });
    await learn(client);
    // With no share of requests, the budget's floor of 10 per window pays for 10 hedges; the 11th
    // slow try runs to its timeout and is retried (the retry, too, is refused by the budget).
    for (let i = 0; i < 10; i++) await settle(client.shout(`slow${i}`, new AbortController().signal));
    expect(hedges()).toBe(10);
    expect(post).toHaveBeenCalledTimes(40);
    expect(await settle(client.shout('unhedged', new AbortController().signal))).toBeInstanceOf(ShoutcloudUnavailableError);
    expect(hedges()).toBe(10);
    expect(post).toHaveBeenCalledTimes(41);
  });
});
