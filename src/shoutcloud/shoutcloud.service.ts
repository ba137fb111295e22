import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { goToUpper } from './go-to-upper.js';
import { ShoutcloudCache, type CacheLookup, type CacheTier } from './shoutcloud.cache.js';
import { ShoutcloudClient } from './shoutcloud.client.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { ClientGoneError, ShoutcloudError } from './shoutcloud.errors.js';

/** Where an answer came from; the value of the `X-Cache` header. */
export type ShoutSource = 'HIT' | 'MISS' | 'STALE' | 'FALLBACK';

export interface Shouted {
  output: string;
  source: ShoutSource;
  /** The cache tier that answered, for HIT and STALE. */
  tier?: CacheTier;
}

const DEADLINE_PASSED = Symbol('deadline passed');
const CLIENTS_GONE = Symbol('every waiting client has gone');

/** One upstream resolution shared by every concurrent request for the same input. */
interface Flight {
  result: Promise<Shouted>;
  waiters: number;
  abort: AbortController;
}

/**
 * Upper-cases text the way Shoutcloud does, as cheaply and calmly as possible: fresh cache hits
 * never reach Shoutcloud; concurrent misses for one input share one lookup and one upstream
 * call; when Shoutcloud cannot answer, a stale entry is served, then (opt-in) a local
 * upper-casing, and only then the error.
 */
@Injectable()
export class ShoutcloudService {
  private readonly flights = new Map<string, Flight>();
  private readonly answerListeners: Array<(answer: Shouted) => void> = [];

  constructor(
    private readonly client: ShoutcloudClient,
    private readonly cache: ShoutcloudCache,
    @Inject(shoutcloudConfig.KEY) private readonly config: ConfigType<typeof shoutcloudConfig>,
  ) {}

  /** Called once per answer given to a caller (for metrics). */
  onAnswer(listener: (answer: Shouted) => void): void {
    this.answerListeners.push(listener);
  }

  /**
   * Upper-cases `prepare()` through Shoutcloud, cached and shared in flight under `key`.
   * @param key the caller's own input: a hit then costs no preparation at all (reversing 10,000
   *   non-Latin characters by grapheme takes tens of milliseconds).
   * @param prepare the text to send, computed once per miss.
   * @param clientGone gives a signal that aborts when the caller disconnects; the upstream call is
   *   cancelled once every request waiting for it has gone. Only called on a miss, so a hit
   *   costs no listener.
   */
  async upperCase(key: string, prepare: () => string, clientGone?: () => AbortSignal): Promise<Shouted> {
    const answer = await this.answer(key, prepare, clientGone);
    for (const listener of this.answerListeners) listener(answer);
    return answer;
  }

  private async answer(key: string, prepare: () => string, clientGone?: () => AbortSignal): Promise<Shouted> {
    const cached = await this.cache.getFromMemory(key);
    if (cached?.fresh) return { output: cached.output, source: 'HIT', tier: 'memory' };

    let flight = this.flights.get(key);
    if (!flight) {
      const abort = new AbortController();
      const result = this.resolve(key, prepare, cached, abort).finally(() => this.flights.delete(key));
      flight = { result, waiters: 0, abort };
      this.flights.set(key, flight);
    }
    return this.wait(flight, clientGone?.());
  }

  private async resolve(
    key: string,
    prepare: () => string,
    inMemory: CacheLookup | undefined,
    abort: AbortController,
  ): Promise<Shouted> {
    const shared = inMemory ? undefined : await this.cache.getFromShared(key);
    if (shared?.fresh) return { output: shared.output, source: 'HIT', tier: 'redis' };
    const stale = inMemory ?? shared;

    const text = prepare();
    // One controller for both ways a flight ends early, told apart by the reason: cheaper on
    // every miss than AbortSignal.any over a timeout signal.
    const deadline = setTimeout(() => abort.abort(DEADLINE_PASSED), this.config.deadlineMs);
    try {
      const output = await this.client.shout(text, abort.signal);
      // The Redis write is bounded by REDIS_TIMEOUT_MS.
      await this.cache.set(key, output);
      return { output, source: 'MISS' };
    } catch (error) {
      if (abort.signal.reason === CLIENTS_GONE) throw new ClientGoneError();
      if (!(error instanceof ShoutcloudError)) throw error;
      if (stale) return { output: stale.output, source: 'STALE', tier: stale.tier };
      if (this.config.fallback === 'local') return { output: goToUpper(text), source: 'FALLBACK' };
      throw error;
    } finally {
      clearTimeout(deadline);
    }
  }

  private wait(flight: Flight, clientGone: AbortSignal | undefined): Promise<Shouted> {
    // A waiter that cannot leave keeps the flight alive for good.
    flight.waiters++;
    if (!clientGone) return flight.result;
    if (clientGone.aborted) {
      flight.waiters--;
      return Promise.reject(new ClientGoneError());
    }
    return new Promise<Shouted>((resolve, reject) => {
      const leave = () => {
        if (--flight.waiters === 0) flight.abort.abort(CLIENTS_GONE);
        reject(new ClientGoneError());
      };
      clientGone.addEventListener('abort', leave, { once: true });
      flight.result.then(
        (value) => {
          clientGone.removeEventListener('abort', leave);
          resolve(value);
        },
        (error: unknown) => {
          clientGone.removeEventListener('abort', leave);
          reject(error);
        },
      );
    });
  }
}
