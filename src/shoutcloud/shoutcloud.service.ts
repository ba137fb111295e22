import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { EventEmitter, type Event } from 'cockatiel';
import { goToUpper } from './go-to-upper.js';
import { memoryKey, ShoutcloudCache, ShoutKey, type CachedShout } from './shoutcloud.cache.js';
import { ShoutcloudClient } from './shoutcloud.client.js';
import { ShoutcloudBatcher, type CallEvent, type MismatchEvent } from './shoutcloud.batcher.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { ShoutcloudError } from './shoutcloud.errors.js';

/**
 * Where an answer came from: the in-process tier, the Redis tier, Shoutcloud just now, a stale
 * entry served because Shoutcloud gave no answer, or the opt-in local upper-casing.
 */
export type Provenance = 'memory' | 'redis' | 'upstream' | 'stale' | 'fallback';

/** Shoutcloud's capitals for one text, and where they came from. */
export interface Shout {
  output: string;
  provenance: Provenance;
}

/**
 * A text the in-process tier holds no fresh answer for, as {@link ShoutcloudService.fromMemory}
 * found it: its keys (computed once) and any stale entry, to hand to {@link ShoutcloudService.shout}.
 */
export class Miss {
  constructor(
    readonly key: ShoutKey,
    readonly stale: CachedShout | undefined,
  ) {}
}

/** One text being looked up in Redis and asked of Shoutcloud, shared by every caller waiting for it. */
interface Flight {
  key: ShoutKey;
  result: Promise<Shout>;
  waiters: number;
  /** Aborted, with the last caller's reason, once every caller has stopped waiting. */
  abandoned: AbortController;
  /** An entry past its freshness, to serve if Shoutcloud gives no answer. */
  stale: CachedShout | undefined;
}

/**
 * Upper-cases texts the way Shoutcloud does, as cheaply and calmly as possible: fresh cache
 * hits never reach Shoutcloud; concurrent callers for one text share one Redis lookup and one
 * upstream call; when Shoutcloud gives no answer, a stale entry is served, then (opt-in) a local
 * upper-casing, and only then the error.
 */
@Injectable()
export class ShoutcloudService {
  /** By the text's {@link memoryKey}: a flood of long texts of one length would otherwise share one hash. */
  private readonly flights = new Map<string, Flight>();
  private readonly answers = new EventEmitter<Shout>();
  /** Fires once per answer given to a caller. */
  readonly onAnswer = this.answers.addListener;
  private readonly batcher: ShoutcloudBatcher;
  /** Fires once per upstream call with its number of texts. */
  readonly onCall: Event<CallEvent>;
  /** Fires when an answer's length did not match its question. */
  readonly onMismatch: Event<MismatchEvent>;

  constructor(
    client: ShoutcloudClient,
    private readonly cache: ShoutcloudCache,
    @Inject(shoutcloudConfig.KEY) private readonly config: ConfigType<typeof shoutcloudConfig>,
  ) {
    this.batcher = new ShoutcloudBatcher({
      send: (text, signal) => client.shout(text, signal),
      maxBytes: config.coalesceMaxBytes,
      targetCallMs: config.timeoutMs / 2,
      maxCallsInFlight: config.coalesce ? config.maxCallsInFlight : Infinity,
      maxQueuedBytes: config.queueMaxBytes,
    });
    this.onCall = this.batcher.onCall;
    this.onMismatch = this.batcher.onMismatch;
  }

  /** Misses waiting for an upstream slot, and calls in flight. */
  get upstreamQueue(): { texts: number; calls: number } {
    return { texts: this.batcher.queued, calls: this.batcher.callsInFlight };
  }

  /**
   * The fast path: Shoutcloud's capitals for a text fresh in the in-process tier, synchronously
   * (no promise, no signal, no timer); otherwise the {@link Miss} to hand to {@link shout}.
   */
  fromMemory(text: string): Shout | Miss {
    const key = memoryKey(text);
    const entry = this.cache.fromMemory(key);
    if (entry?.state === 'fresh') return this.answer(entry.output, 'memory');
    return new Miss(new ShoutKey(text, key), entry);
  }

  /**
   * Shoutcloud's capitals for each text {@link fromMemory} could not answer, in order: from the
   * flight already asking for that text, else Redis then Shoutcloud, shared by every caller
   * waiting for it.
   * @param signal once it aborts, the promise rejects with its reason; a
   *   `ShoutcloudDeadlineError` reason still gets a stale or fallback answer where there is one.
   *   The upstream call for a text is cancelled when every caller waiting for it has aborted.
   */
  shout(misses: readonly Miss[], signal: AbortSignal): Promise<Shout[]> {
    return Promise.all(misses.map((miss) => this.shoutOne(miss, signal)));
  }

  private async shoutOne(miss: Miss, signal: AbortSignal): Promise<Shout> {
    const flight = this.flights.get(miss.key.memory) ?? this.takeOff(miss);
    try {
      const shout = await this.join(flight, signal);
      return this.answer(shout.output, shout.provenance);
    } catch (error) {
      if (!(error instanceof ShoutcloudError)) throw error;
      if (flight.stale) return this.answer(flight.stale.output, 'stale');
      if (this.config.fallback === 'local') return this.answer(goToUpper(miss.key.text), 'fallback');
      throw error;
    }
  }

  private answer(output: string, provenance: Provenance): Shout {
    const shout = { output, provenance };
    this.answers.emit(shout);
    return shout;
  }

  private takeOff({ key, stale }: Miss): Flight {
    const flight: Flight = { key, result: undefined!, waiters: 0, abandoned: new AbortController(), stale };
    flight.result = this.resolve(flight).finally(() => this.land(flight));
    // Every caller may have left: nobody else handles the rejection then.
    flight.result.catch(() => undefined);
    this.flights.set(key.memory, flight);
    return flight;
  }

  private land(flight: Flight): void {
    if (this.flights.get(flight.key.memory) === flight) this.flights.delete(flight.key.memory);
  }

  /** Redis, then Shoutcloud; the answer goes out once the in-process tier holds it. */
  private async resolve(flight: Flight): Promise<Shout> {
    const { key } = flight;
    const shared = await this.cache.fromRedis(key);
    if (shared?.state === 'fresh') return { output: shared.output, provenance: 'redis' };
    flight.stale = shared ?? flight.stale;
    const output = await this.askShoutcloud(key.text, flight.abandoned.signal);
    this.cache.remember(key, output);
    return { output, provenance: 'upstream' };
  }

  /**
   * The one way a cache miss reaches Shoutcloud: at once when an upstream slot is free, else with
   * the other misses waiting for one, from any request, in the next call.
   */
  private askShoutcloud(text: string, signal: AbortSignal): Promise<string> {
    return this.batcher.shout(text, signal);
  }

  private join(flight: Flight, signal: AbortSignal): Promise<Shout> {
    flight.waiters++;
    return new Promise<Shout>((resolve, reject) => {
      const leave = () => {
        if (--flight.waiters === 0) {
          // A caller arriving from now on starts a flight of its own instead of joining this one.
          this.land(flight);
          flight.abandoned.abort(signal.reason);
        }
        reject(signal.reason);
      };
      if (signal.aborted) return leave();
      signal.addEventListener('abort', leave, { once: true });
      flight.result.then(
        (shout) => {
          signal.removeEventListener('abort', leave);
          resolve(shout);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(error);
        },
      );
    });
  }
}
