import { EventEmitter } from 'cockatiel';

/**
 * The hedge waits this much longer than the learned p95: a p95 is an estimate from a few dozen
 * tries, and without headroom an upstream that is uniformly slow (every try alike, with a little
 * jitter) would still see its slowest 5 % of tries hedged for nothing.
 */
const HEADROOM = 1.2;

export interface HedgeDelayOptions {
  /** Never hedge sooner: a try this fast is not worth a second one. */
  minMs: number;
  /**
   * A learned delay above this means Shoutcloud is slow across the board, where a second try
   * would be as slow as the first: no hedge.
   */
  maxMs: number;
  /** Recent successful tries the p95 is learned from. Default 100. */
  windowSize?: number;
  /** Fewer successful tries than this in the window: no hedge yet. Default 20. */
  minSamples?: number;
}

/**
 * When to start a second try: 1.2 × the p95 of the recent successful tries' durations, at least
 * `minMs`; none with too few samples or above `maxMs`.
 */
export class HedgeDelay {
  private readonly samples: Float64Array;
  private readonly minSamples: number;
  private count = 0;
  private next = 0;
  private learned: number | undefined;
  private stale = false;

  constructor(private readonly options: HedgeDelayOptions) {
    this.samples = new Float64Array(options.windowSize ?? 100);
    this.minSamples = options.minSamples ?? 20;
  }

  /** Adds the duration of a try that answered. */
  record(durationMs: number): void {
    this.samples[this.next] = durationMs;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count++;
    this.stale = true;
  }

  /** Milliseconds before a try is hedged; `undefined`: do not hedge. */
  get currentMs(): number | undefined {
    if (this.stale) {
      this.stale = false;
      this.learned = this.learn();
    }
    return this.learned;
  }

  private learn(): number | undefined {
    if (this.count < this.minSamples) return undefined;
    const sorted = this.samples.slice(0, this.count).sort();
    // Nearest rank: the smallest duration at least 95 % of the samples do not exceed.
    const p95 = sorted[Math.ceil(0.95 * this.count) - 1];
    const delay = Math.max(this.options.minMs, Math.ceil(p95 * HEADROOM));
    return delay > this.options.maxMs ? undefined : delay;
  }
}

/** Why a hedged try was aborted: the other try answered first. */
export class HedgeLostError extends Error {
  constructor() {
    super('Another try answered first');
    this.name = 'HedgeLostError';
  }
}

/** A second try was started. */
export interface HedgeEvent {
  delayMs: number;
}

/**
 * Hedged execution of one upstream try ("The Tail at Scale", Dean and Barroso): when the try
 * runs past the learned delay, a second one starts; the first good answer wins and the other
 * try is aborted with a {@link HedgeLostError}. When both fail, the later failure is thrown.
 */
export class Hedge {
  private readonly hedgeEmitter = new EventEmitter<HedgeEvent>();
  /** cockatiel's event: a second try was started. */
  readonly onHedge = this.hedgeEmitter.addListener;

  /**
   * @param delay the learned delay; fed by this class with the duration of each try that answers.
   * @param mayHedge asked when the delay passes, e.g. "the breaker is closed and the retry
   *   budget gives a try"; false means no second try.
   */
  constructor(
    readonly delay: HedgeDelay,
    private readonly mayHedge: () => boolean,
  ) {}

  /** Runs `attempt` under `signal`, hedged once if it runs long. */
  execute<T>(attempt: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const delayMs = this.delay.currentMs;
    if (delayMs === undefined || signal.aborted) return this.timed(attempt, signal);
    return new Promise<T>((resolve, reject) => {
      const tries: AbortController[] = [];
      let running = 0;
      let settled = false;
      const cancelAll = () => {
        for (const own of tries) own.abort(signal.reason);
      };
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', cancelAll);
      };
      const start = () => {
        const own = new AbortController();
        tries.push(own);
        running++;
        this.timed(attempt, own.signal).then(
          (value) => {
            if (settled) return;
            finish();
            for (const other of tries) if (other !== own) other.abort(new HedgeLostError());
            resolve(value);
          },
          (error: unknown) => {
            if (settled || --running > 0) return;
            // The first try failed before the delay, or both have failed.
            finish();
            reject(error);
          },
        );
      };
      const timer = setTimeout(() => {
        if (settled || !this.mayHedge()) return;
        this.hedgeEmitter.emit({ delayMs });
        start();
      }, delayMs);
      signal.addEventListener('abort', cancelAll, { once: true });
      start();
    });
  }

  private async timed<T>(attempt: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const started = performance.now();
    const value = await attempt(signal);
    this.delay.record(performance.now() - started);
    return value;
  }
}
