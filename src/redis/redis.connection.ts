import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import {
  CircuitState,
  ConsecutiveBreaker,
  EventEmitter,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  timeout,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import { breakerStateName, type BreakerState } from '../resilience/breaker-state.js';
import { redisCommandAttributes, SpanName, withSpan } from '../tracing/tracing.js';
import { redisConfig } from './redis.config.js';
import { configurationProblem } from './redis.configuration-problem.js';
import { reasonOf, type RedisCommands, type RedisEndpoint, type RedisFailover, type RedisVia } from './redis.endpoint.js';
import { ServerVersion } from './redis.server-version.js';

export type { RedisCommands, RedisFailover, RedisVia } from './redis.endpoint.js';

/**
 * Injection token of the way Redis is reached (a {@link RedisEndpoint}), or `undefined` when
 * Redis is not configured.
 */
export const REDIS_ENDPOINT = Symbol('REDIS_ENDPOINT');

/** node-redis's refusal to send on a connection that is closed or not (yet) open. */
const isDisconnected = (error: unknown) =>
  error instanceof Error && (error.message === 'The client is closed' || error.message === 'The client is offline');

/**
 * Why a request went on without Redis: `disconnected` and `breaker_open` (nothing sent),
 * `timeout` (no answer within `REDIS_TIMEOUT_MS`) or `error` (Redis or the client refused).
 */
export const REDIS_SKIP_REASONS = ['disconnected', 'breaker_open', 'timeout', 'error'] as const;
export type RedisSkipReason = (typeof REDIS_SKIP_REASONS)[number];

/**
 * The process's one connection to the shared Redis, however it is reached, and its one failure
 * policy: every call on a request's path goes through {@link run}, bounded by `REDIS_TIMEOUT_MS`;
 * after `REDIS_BREAKER_THRESHOLD` failed or timed-out calls in a row a circuit breaker opens and
 * requests stop calling Redis at all, while a background PING every `REDIS_PROBE_INTERVAL_MS`
 * (same budget) decides when it is well again. A hung Redis thus costs requests what a missing
 * one does, and a failover is a short outage of the same kind. Outages and breaker changes are
 * logged once each.
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private outageLogged = false;
  private outage: string | undefined;
  private misconfiguration: string | undefined;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy;
  private readonly version: ServerVersion;
  private probeTimer: NodeJS.Timeout | undefined;
  private skipping = false;
  private shuttingDown = false;
  private failoverCount = 0;
  private readonly skipEmitter = new EventEmitter<RedisSkipReason>();
  private readonly failoverEmitter = new EventEmitter<RedisFailover>();
  /** Fires each time a caller goes on without Redis, with the reason. */
  readonly onSkip = this.skipEmitter.addListener;
  /** Fires with the server's version (`INFO server`) when it is first learned or changes. */
  readonly onServerVersion: ServerVersion['onChange'];
  /** Fires when the primary in use changes (a failover). */
  readonly onFailover = this.failoverEmitter.addListener;

  constructor(
    @Inject(redisConfig.KEY) private readonly config: ConfigType<typeof redisConfig>,
    @Inject(REDIS_ENDPOINT) private readonly endpoint: RedisEndpoint | undefined,
  ) {
    // halfOpenAfter 0: requests only call through the breaker while it is closed, so the one
    // call that can half-open it is the background probe, on the probe's own schedule.
    // A node known to be disconnected (a cluster's primary that is away) fails at once and costs
    // nothing: it is no reason to stop using the nodes that answer.
    this.breaker = circuitBreaker(
      handleWhen((error) => !isDisconnected(error)),
      { halfOpenAfter: 0, breaker: new ConsecutiveBreaker(config.breakerThreshold) },
    );
    // Aggressive: a Redis call cannot be cancelled, so past its budget the caller stops waiting.
    // abortOnReturn off: nobody listens to the signal, aborting it would only cost an exception.
    const budget = timeout(config.commandTimeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    this.policy = wrap(this.breaker, budget);
    this.version = new ServerVersion((info) => this.policy.execute(info), config.probeIntervalMs);
    this.onServerVersion = this.version.onChange;
    this.breaker.onBreak(() => this.breakerOpened());
    this.breaker.onReset(() => this.breakerClosed());
    if (!endpoint) return;
    endpoint.onReady(() => this.back());
    endpoint.onUnreachable((error) => this.unreachable(error));
    endpoint.onFailover((failover) => {
      this.failoverCount++;
      this.failoverEmitter.emit(failover);
    });
  }

  /** True when Redis is configured. */
  get enabled(): boolean {
    return this.endpoint !== undefined;
  }

  /** How Redis is reached; `undefined` when it is not configured. */
  get via(): RedisVia | undefined {
    return this.endpoint?.via;
  }

  /**
   * True when a connection is ready for commands (says nothing about Redis answering: see
   * {@link breakerState}); through Sentinel, a ready connection to the primary they name.
   */
  get ready(): boolean {
    return this.endpoint?.ready ?? false;
  }

  /** `closed`: requests use Redis; `open`: they skip it; `half-open`: the probe is running. */
  get breakerState(): BreakerState {
    return breakerStateName(this.breaker.state);
  }

  /** The server's `redis_version`, once a connection has answered `INFO server`. */
  get serverVersion(): string | undefined {
    return this.version.current;
  }

  /** `host:port` of the Redis in use: `REDIS_URL`'s, or the primary the Sentinels last named. */
  get primary(): string | undefined {
    return this.endpoint?.primary;
  }

  /** Primary changes seen since start-up. */
  get failovers(): number {
    return this.failoverCount;
  }

  /** What `/health` shows about the way Redis is reached (e.g. the Sentinels' master name). */
  get details(): Record<string, unknown> {
    return this.endpoint?.details() ?? {};
  }

  /** Why Redis is unreachable, while it is: the last failure to connect or of the connection. */
  get problem(): string | undefined {
    return this.ready ? undefined : this.outage;
  }

  /**
   * What to fix, while the last failure was one no retry cures (a database, credentials or
   * permissions the server refuses); cleared by the next command that succeeds.
   */
  get configurationError(): string | undefined {
    return this.misconfiguration;
  }

  /**
   * Runs one Redis command under the one Redis failure policy: bounded by `REDIS_TIMEOUT_MS`,
   * skipped while Redis is disconnected or the breaker is open. Resolves `undefined` when the
   * command was skipped, failed or ran out of time, so a caller on a request's path goes on
   * without Redis. `operation` names the command in its trace span (e.g. `GET`, `MULTI`).
   */
  async run<T>(command: (client: RedisCommands) => Promise<T>, operation = 'command'): Promise<T | undefined> {
    const endpoint = this.endpoint;
    if (!endpoint) return undefined;
    if (!endpoint.ready) {
      endpoint.wanted();
      return this.skip('disconnected');
    }
    if (this.breaker.state !== CircuitState.Closed) return this.skip('breaker_open');
    try {
      // Inside the try, so a timeout or failure is recorded on the span before it is swallowed.
      const result = await withSpan(SpanName.RedisCommand, redisCommandAttributes(operation), () =>
        this.policy.execute(() => command(endpoint.commands)),
      );
      this.misconfiguration = undefined;
      return result;
    } catch (error) {
      this.logger.debug(`Redis call skipped: ${(error as Error).message}`);
      this.commandFailed(error);
      return this.skip(error instanceof TaskCancelledError ? 'timeout' : isDisconnected(error) ? 'disconnected' : 'error');
    }
  }

  onModuleInit(): void {
    // Not awaited: start-up must not depend on a shared dependency being up.
    this.endpoint?.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    clearTimeout(this.probeTimer);
    this.version.stop();
    await this.endpoint?.close();
  }

  private back(): void {
    if (this.shuttingDown) return;
    if (this.outageLogged) this.logger.log(`Redis is back (primary ${this.primary ?? 'unknown'}); the shared cache tier is on again`);
    this.outageLogged = false;
    this.outage = undefined;
    // The primary may be another server: its version again. Through the breaker like any call,
    // so if the breaker opened on the node that failed (a hung primary times out), this is its
    // probe, at once rather than at the next tick.
    this.readServerVersion();
  }

  private unreachable(error: unknown): void {
    if (this.shuttingDown) return;
    this.outage = reasonOf(error);
    if (this.misconfigured(this.outage) || this.outageLogged) return;
    this.outageLogged = true;
    this.logger.warn(`Redis unreachable (${this.outage}); serving from the in-process cache and Shoutcloud until it returns`);
  }

  /** A command refused for a reason no retry cures is named as such. */
  private commandFailed(error: unknown): void {
    if (!(error instanceof TaskCancelledError)) this.misconfigured(reasonOf(error));
  }

  /**
   * True when `reason` is a configuration problem: recorded for /health, and logged once (and
   * again only when it changes), in place of an outage line that would send an operator to Redis.
   */
  private misconfigured(reason: string): boolean {
    const fix = configurationProblem(reason);
    if (!fix) return false;
    if (fix !== this.misconfiguration) {
      this.logger.error(`Redis configuration problem (${reason}): ${fix}; serving from the in-process cache and Shoutcloud until it is fixed`);
    }
    this.misconfiguration = fix;
    // Counted as logged: once fixed, the way back is reported like any outage's.
    this.outageLogged = true;
    return true;
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
      // A configuration problem has its own line; the breaker opening on it is no news.
      if (!this.misconfigured(cause)) this.logger.warn(
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
    if (this.version.current === undefined) this.readServerVersion();
  }

  private probe(): void {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    // A failure opens the breaker again, which schedules the next probe.
    this.policy.execute(() => endpoint.commands.ping()).then(
      () => (this.misconfiguration = undefined),
      (error: unknown) => this.commandFailed(error),
    );
  }

  private readServerVersion(): void {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    this.version.read(() =>
      endpoint.commands.info('server').then(
        (info) => {
          this.misconfiguration = undefined;
          return info;
        },
        (error: unknown) => {
          this.commandFailed(error);
          throw error;
        },
      ),
    );
  }
}
