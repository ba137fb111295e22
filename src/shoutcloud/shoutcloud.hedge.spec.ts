import { jest } from '@jest/globals';
import { Hedge, HedgeDelay, HedgeLostError, type HedgeEvent } from './shoutcloud.hedge.js';

/** A delay that has learned `count` tries of `durationMs` each. */
function learned(durations: number[], options: Partial<ConstructorParameters<typeof HedgeDelay>[0]> = {}) {
  const delay = new HedgeDelay({ minMs: 50, maxMs: 500, ...options });
  for (const duration of durations) delay.record(duration);
  return delay;
}

describe('HedgeDelay', () => {
  it('does not hedge before it has 20 samples', () => {
    expect(learned(Array(19).fill(10)).currentMs).toBeUndefined();
    expect(learned(Array(20).fill(10)).currentMs).toBe(50);
  });

  it('waits 1.2 × the p95 of recent tries, at least the minimum', () => {
    // 100 tries of 100..199 ms: the p95 (nearest rank) is 194 ms.
    expect(learned(Array.from({ length: 100 }, (_, i) => 100 + i)).currentMs).toBe(Math.ceil(194 * 1.2));
    expect(learned(Array(30).fill(5)).currentMs).toBe(50);
  });

  it('is not moved by one slow try in twenty', () => {
    const durations = Array.from({ length: 100 }, (_, i) => (i % 20 === 19 ? 1000 : 4));
    expect(learned(durations).currentMs).toBe(50);
  });

  it('puts a uniformly slow upstream above its own tries', () => {
    const durations = Array.from({ length: 100 }, (_, i) => 300 + (i % 10));
    const delay = learned(durations, { maxMs: 1000 }).currentMs!;
    expect(delay).toBeGreaterThan(Math.max(...durations));
  });

  it('does not hedge when the learned delay is above the maximum', () => {
    expect(learned(Array(20).fill(450)).currentMs).toBeUndefined();
  });

  it('learns from the last 100 tries only', () => {
    const delay = learned(Array(100).fill(400));
    expect(delay.currentMs).toBe(480);
    for (let i = 0; i < 100; i++) delay.record(10);
    expect(delay.currentMs).toBe(50);
  });
});

interface Try {
  signal: AbortSignal;
  answer: (value: string) => void;
  fail: (error: unknown) => void;
}

/** A hedge over tries the test answers by hand, with a learned delay of 50 ms. */
function hedgeWith(options: { mayHedge?: () => boolean; samples?: number } = {}) {
  const tries: Try[] = [];
  const attempt = jest.fn(
    (signal: AbortSignal) => new Promise<string>((resolve, reject) => tries.push({ signal, answer: resolve, fail: reject })),
  );
  const hedge = new Hedge(learned(Array(options.samples ?? 20).fill(10)), options.mayHedge ?? (() => true));
  const hedges: HedgeEvent[] = [];
  hedge.onHedge((event) => hedges.push(event));
  return { hedge, attempt, tries, hedges };
}

describe('Hedge', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('starts a second try when the first runs past the delay; the first answer wins, the other is aborted', async () => {
    const { hedge, attempt, tries, hedges } = hedgeWith();
    const result = hedge.execute(attempt, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(49);
    expect(attempt).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(attempt).toHaveBeenCalledTimes(2);
    expect(hedges).toEqual([{ delayMs: 50 }]);
    tries[1].answer('SECOND');
    await expect(result).resolves.toBe('SECOND');
    expect(tries[0].signal.aborted).toBe(true);
    expect(tries[0].signal.reason).toBeInstanceOf(HedgeLostError);
    expect(tries[1].signal.aborted).toBe(false);
  });

  it('does not hedge a try that answers in time', async () => {
    const { hedge, attempt, tries, hedges } = hedgeWith();
    const result = hedge.execute(attempt, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(30);
    tries[0].answer('FIRST');
    await expect(result).resolves.toBe('FIRST');
    await jest.advanceTimersByTimeAsync(1000);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(hedges).toEqual([]);
  });

  it('does not hedge with too few samples, however long the try runs', async () => {
    const { hedge, attempt, tries } = hedgeWith({ samples: 19 });
    const result = hedge.execute(attempt, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(5000);
    expect(attempt).toHaveBeenCalledTimes(1);
    tries[0].answer('SLOW');
    await expect(result).resolves.toBe('SLOW');
  });

  it('does not hedge when it may not (breaker open, budget spent)', async () => {
    const mayHedge = jest.fn(() => false);
    const { hedge, attempt, tries, hedges } = hedgeWith({ mayHedge });
    const result = hedge.execute(attempt, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(1000);
    expect(mayHedge).toHaveBeenCalledTimes(1);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(hedges).toEqual([]);
    tries[0].answer('ONLY');
    await expect(result).resolves.toBe('ONLY');
  });

  it('gives a failure before the delay at once, without a second try', async () => {
    const { hedge, attempt, tries } = hedgeWith();
    const result = hedge.execute(attempt, new AbortController().signal);
    const failure = new Error('503');
    tries[0].fail(failure);
    await expect(result).rejects.toBe(failure);
    await jest.advanceTimersByTimeAsync(1000);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('waits for the hedge when the first try fails after it started', async () => {
    const { hedge, attempt, tries } = hedgeWith();
    const result = hedge.execute(attempt, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(50);
    tries[0].fail(new Error('reset'));
    await jest.advanceTimersByTimeAsync(10);
    tries[1].answer('SECOND');
    await expect(result).resolves.toBe('SECOND');
  });

  it('throws the later failure when both tries fail', async () => {
    const { hedge, attempt, tries } = hedgeWith();
    const result = hedge.execute(attempt, new AbortController().signal);
    await jest.advanceTimersByTimeAsync(50);
    tries[1].fail(new Error('first to fail'));
    const later = new Error('later');
    tries[0].fail(later);
    await expect(result).rejects.toBe(later);
  });

  it('aborts both tries with the caller’s reason when the caller leaves', async () => {
    const { hedge, attempt, tries } = hedgeWith();
    const caller = new AbortController();
    const result = hedge.execute(attempt, caller.signal);
    await jest.advanceTimersByTimeAsync(50);
    const reason = new Error('deadline');
    caller.abort(reason);
    expect(tries.map((one) => one.signal.reason)).toEqual([reason, reason]);
    tries.forEach((one) => one.fail(one.signal.reason));
    await expect(result).rejects.toBe(reason);
  });

  it('learns from the tries it runs', async () => {
    const { hedge, attempt, tries } = hedgeWith({ samples: 0 });
    for (let i = 0; i < 20; i++) {
      const result = hedge.execute(attempt, new AbortController().signal);
      await jest.advanceTimersByTimeAsync(100);
      tries[i].answer('OK');
      await result;
    }
    expect(hedge.delay.currentMs).toBe(120);
  });
});
