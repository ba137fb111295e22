import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { createClient, type RedisClientType } from '@keyv/redis';
import {
  CircuitState,
  ConsecutiveBreaker,
  EventEmitter,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { redisCommandAttributes, SpanName, withSpan } from '../tracing/tracing.js';
import { redisConfig } from './redis.config.js';

/** Injection token of the node-redis client; `undefined` when `REDIS_URL` is unset. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/**
 * Why a request went on without Redis: `disconnected` and `breaker_open` (nothing sent),
 * `timeout` (no answer within `REDIS_TIMEOUT_MS`) or `error` (Redis or the client refused).
 */
export const REDIS_SKIP_REASONS = ['disconnected', 'breaker_open', 'timeout', 'error'] as const;
export type RedisSkipReason = (typeof REDIS_SKIP_REASONS)[number];

export const REDIS_BREAKER_STATES = ['closed', 'half-open', 'open'] as const;
export type RedisBreakerState = (typeof REDIS_BREAKER_STATES)[number];

// node-redis's own command timeout only covers commands not yet written to the socket, and a
// paused Redis keeps accepting writes: what piles up is commands waiting for a reply. The
// breaker keeps that pile small; this bound holds even if it did not (a full queue rejects at
// once, which counts as a failure).
const MAX_PENDING_COMMANDS = 1000;

/** The node-redis client for `REDIS_URL`, not yet connected; `undefined` when it is unset. */
export function createRedisClient(config: ConfigType<typeof redisConfig>): RedisClientType | undefined {
  if (!config.url) return undefined;
  return createClient({
    url: config.url,
    // Commands fail at once while disconnected instead of waiting for a reconnection.
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_PENDING_COMMANDS,
    socket: {
      // A slow handshake costs requests nothing (commands fail at once while disconnected).
      connectTimeout: 5000,
      reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000),
    },
  }) as RedisClientType;
}

/**
 * The process's one connection to the shared Redis, when `REDIS_URL` is set, and its one failure
 * policy: every call on a request's path goes through {@link run}, bounded by `REDIS_TIMEOUT_MS`;
 * after `REDIS_BREAKER_THRESHOLD` failed or timed-out calls in a row a circuit breaker opens and
 * requests stop calling Redis at all, while a background PING every `REDIS_PROBE_INTERVAL_MS`
 * (same budget) decides when it is well again. A hung Redis thus costs requests what a missing
 * one does. The client reconnects by itself; outages and breaker changes are logged once each.
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private outageLogged = false;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy;
  private probeTimer: NodeJS.Timeout | undefined;
  private versionTimer: NodeJS.Timeout | undefined;
  private skipping = false;
  private version: string | undefined;
  private readonly skipEmitter = new EventEmitter<RedisSkipReason>();
  private readonly versionEmitter = new EventEmitter<string>();
  /** Fires each time a caller goes on without Redis, with the reason. */
  readonly onSkip = this.skipEmitter.addListener;
  /** Fires with the server's version (`INFO server`) when it is first learned or changes. */
  readonly onServerVersion = this.versionEmitter.addListener;

  constructor(
    @Inject(redisConfig.KEY) readonly config: ConfigType<typeof redisConfig>,
    @Inject(REDIS_CLIENT) readonly client: RedisClientType | undefined,
  ) {
    // halfOpenAfter 0: requests only call through the breaker while it is closed, so the one
    // call that can half-open it is the background probe, on the probe's own schedule.
    this.breaker = circuitBreaker(handleAll, { halfOpenAfter: 0, breaker: new ConsecutiveBreaker(config.breakerThreshold) });
    // Aggressive: a Redis call cannot be cancelled, so past its budget the caller stops waiting.
    // abortOnReturn off: nobody listens to the signal, aborting it would only cost an exception.
    const budget = timeout(config.commandTimeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    this.policy = wrap(this.breaker, budget);
    this.breaker.onBreak(() => this.breakerOpened());
    this.breaker.onReset(() => this.breakerClosed());
    if (!this.client) return;
    this.client.on('ready', () => {
      if (this.outageLogged) this.logger.log('Redis is back; the shared cache tier is on again');
      this.outageLogged = false;
      this.readServerVersion();
    });
    this.client.on('error', (error: Error) => {
      if (this.outageLogged) return;
      this.outageLogged = true;
      this.logger.warn(
        `Redis unreachable (${error.message || error.name}); serving from the in-process cache and Shoutcloud until it returns`,
      );
    });
  }

  /** True when Redis is configured. */
  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** True when the client holds a connection (says nothing about Redis answering: see {@link breakerState}). */
  get ready(): boolean {
    return this.client?.isReady ?? false;
  }

  /** `closed`: requests use Redis; `open`: they skip it; `half-open`: the probe is running. */
  get breakerState(): RedisBreakerState {
    const state = this.breaker.state;
    if (state === CircuitState.Closed) return 'closed';
    return state === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  /** The server's `redis_version`, once a connection has answered `INFO server`. */
  get serverVersion(): string | undefined {
    return this.version;
  }

  /**
   * Runs one Redis command under the one Redis failure policy: bounded by `REDIS_TIMEOUT_MS`,
   * skipped while Redis is disconnected or the breaker is open. Resolves `undefined` when the
   * command was skipped, failed or ran out of time, so a caller on a request's path goes on
   * without Redis. `operation` names the command in its trace span (e.g. `GET`, `MULTI`).
   */
  async run<T>(command: (client: RedisClientType) => Promise<T>, operation = 'command'): Promise<T | undefined> {
    const client = this.client;
    if (!client) return undefined;
    if (!client.isReady) return this.skip('disconnected');
    if (this.breaker.state !== CircuitState.Closed) return this.skip('breaker_open');
    try {
      // Inside the try, so a timeout or failure is recorded on the span before it is swallowed.
      return await withSpan(SpanName.RedisCommand, redisCommandAttributes(operation), () =>
        this.policy.execute(() => command(client)),
      );
    } catch (error) {
      this.logger.debug(`Redis call skipped: ${(error as Error).message}`);
      return this.skip(error instanceof TaskCancelledError ? 'timeout' : 'error');
    }
  }

  onModuleInit(): void {
    // Not awaited: start-up must not depend on a shared dependency being up.
    this.client?.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.probeTimer);
    clearTimeout(this.versionTimer);
    if (!this.client?.isOpen) return;
    await this.client.close().catch(() => this.client?.destroy());
  }

  private skip(reason: RedisSkipReason): undefined {
    this.skipEmitter.emit(reason);
    return undefined;
  }

  private breakerOpened(): void {
    // A failed probe opens the breaker again: that is no news, only the next probe is.
    if (!this.skipping) {
      this.skipping = true;
      const failure = this.breaker.lastFailure;
      const cause = failure && 'error' in failure ? failure.error.message : 'unknown';
      this.logger.warn(
        `Redis failed ${this.config.breakerThreshold} calls in a row (last: ${cause}); requests skip it, ` +
          `a background PING checks it every ${this.config.probeIntervalMs} ms`,
      );
    }
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => this.probe(), this.config.probeIntervalMs);
    this.probeTimer.unref();
  }

  private breakerClosed(): void {
    this.skipping = false;
    this.logger.warn('Redis answered the background PING; requests use it again');
    if (this.version === undefined) this.readServerVersion();
  }

  private probe(): void {
    const client = this.client;
    if (!client) return;
    // A failure opens the breaker again, which schedules the next probe.
    this.policy.execute(() => client.ping()).catch(() => undefined);
  }

  private readServerVersion(): void {
    const client = this.client;
    if (!client) return;
    this.policy
      .execute(() => client.info('server'))
      .then((info) => {
        const version = /^redis_version:(\S+)/m.exec(String(info))?.[1];
        if (!version || version === this.version) return;
        this.version = version;
        this.logger.log(`Redis server version ${version}`);
        this.versionEmitter.emit(version);
      })
      .catch((error: Error) => {
        this.logger.debug(`INFO server failed: ${error.message}`);
        // Until the version is known the rate-limit counters stay per replica: ask again.
        if (this.version !== undefined) return;
        clearTimeout(this.versionTimer);
        this.versionTimer = setTimeout(() => this.readServerVersion(), this.config.probeIntervalMs);
        this.versionTimer.unref();
      });
  }
}
