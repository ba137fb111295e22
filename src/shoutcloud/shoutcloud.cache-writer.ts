import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { EventEmitter } from 'cockatiel';
import { setTimeout as sleep } from 'node:timers/promises';
import { appConfig } from '../config/app.config.js';
import { shoutcloudConfig } from './shoutcloud.config.js';

/** How one write to the shared tier ended: `dropped` when too many were already in flight. */
export type SharedWriteOutcome = 'written' | 'failed' | 'dropped';

export const SHARED_WRITE_OUTCOMES: readonly SharedWriteOutcome[] = ['written', 'failed', 'dropped'];

/**
 * Writes answers to the shared tier off the answer's path: a write is started and never waited
 * for by a request. It goes through the same Keyv store as the reads, so through
 * `RedisConnection.run` and its time budget and breaker. At most `CACHE_WRITES_MAX_IN_FLIGHT`
 * writes are in flight; past that a write is dropped (the answer stays in the in-process tier,
 * and another replica asks Shoutcloud once more). Every outcome is told to listeners; no write
 * ever rejects. At shutdown, writes still in flight get up to `SHUTDOWN_GRACE_MS` to finish
 * before Redis is closed.
 */
@Injectable()
export class SharedTierWriter implements OnApplicationShutdown {
  private readonly logger = new Logger('SharedTierWriter');
  private readonly inFlight = new Set<Promise<void>>();
  private readonly outcomes = new EventEmitter<SharedWriteOutcome>();
  /** Fires once per write asked for, with how it ended. */
  readonly onWrite = this.outcomes.addListener;
  private readonly maxInFlight: number;

  constructor(
    @Inject(CACHE_MANAGER) private readonly shared: Cache,
    @Inject(shoutcloudConfig.KEY) config: ConfigType<typeof shoutcloudConfig>,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
  ) {
    this.maxInFlight = config.cacheWritesMaxInFlight;
  }

  /** Writes still running. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Starts writing `value` under `key` for `ttlMs`; returns at once. */
  write(key: string, value: object, ttlMs: number): void {
    if (this.inFlight.size >= this.maxInFlight) return this.outcomes.emit('dropped');
    // cache-manager's `set` drops its store's answer; the Keyv store says whether the write went
    // through (false when Redis was skipped, failed or ran out of time).
    const write = this.shared.stores[0]
      .set(key, value, ttlMs)
      .then(
        (written) => this.outcomes.emit(written ? 'written' : 'failed'),
        () => this.outcomes.emit('failed'),
      )
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  /** Resolves once every write in flight now has ended (none ever rejects). */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** Runs before Redis is closed (its module is imported by this one, so it shuts down after). */
  async onApplicationShutdown(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const grace = new AbortController();
    const finished = await Promise.race([
      this.settled().then(() => true),
      sleep(this.app.shutdownGraceMs, false, { signal: grace.signal }).catch(() => false),
    ]);
    grace.abort();
    if (!finished) this.logger.warn(`${this.inFlight.size} writes to the shared cache tier did not finish within the shutdown grace`);
  }
}
