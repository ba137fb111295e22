import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { RedisClientType, RedisSentinelType } from '@keyv/redis';
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
import { breakerStateName, type BreakerState } from '../resilience/breaker-state.js';
import { redisCommandAttributes, SpanName, withSpan } from '../tracing/tracing.js';
import { redisConfig } from './redis.config.js';

/**
 * Injection token of the node-redis client: one for `REDIS_URL`, or node-redis's Sentinel client
 * for `REDIS_SENTINELS`; `undefined` when Redis is not configured.
 */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** What {@link REDIS_CLIENT} holds. */
export type RedisEndpoint = RedisClientType | RedisSentinelType;

/**
 * The commands a caller of {@link RedisConnection.run} may use. node-redis's Sentinel client has
 * them with the same arguments and replies (it runs them on the current primary's connection).
 */
export type RedisCommands = Pick<RedisClientType, 'get' | 'set' | 'del' | 'multi' | 'ping' | 'info'>;

/** How Redis is reached: `url` (`REDIS_URL`) or `sentinel` (`REDIS_SENTINELS`). */
export type RedisVia = 'url' | 'sentinel';

/** A primary change seen through Sentinel. */
export interface RedisFailover {
  readonly from: string;
  readonly to: string;
}

/**
 * Why a request went on without Redis: `disconnected` and `breaker_open` (nothing sent),
 * `timeout` (no answer within `REDIS_TIMEOUT_MS`) or `error` (Redis or the client refused).
 */
export const REDIS_SKIP_REASONS = ['disconnected', 'breaker_open', 'timeout', 'error'] as const;
export type RedisSkipReason = (typeof REDIS_SKIP_REASONS)[number];

// node-redis's own command timeout only covers commands not yet written to the socket, and a
// paused Redis keeps accepting writes: what piles up is commands waiting for a reply. The
// breaker keeps that pile small; this bound holds even if it did not (a full queue rejects at
// once, which counts as a failure).
const MAX_PENDING_COMMANDS = 1000;

// A slow handshake costs requests nothing (commands fail at once while disconnected).
const CONNECT_TIMEOUT_MS = 5000;
// Through Sentinel, a round of asking the Sentinels holds node-redis's commands until it ends:
// a Sentinel or node that does not connect or answer within this is given up for the next.
const SENTINEL_TIMEOUT_MS = 1000;

/**
 * The node-redis client for `REDIS_URL`, or its Sentinel client for `REDIS_SENTINELS`, not yet
 * connected; `undefined` when neither is set.
 */
export async function createRedisClient(config: ConfigType<typeof redisConfig>): Promise<RedisEndpoint | undefined> {
  if (!config.url && !config.sentinel) return undefined;
  // Loaded only when configured: the client is a few hundred modules of start-up and memory.
  const { createClient, createSentinel } = await import('@keyv/redis');
  const credentials = { username: config.username, password: config.password };
  const commands = {
    // Commands fail at once while disconnected instead of waiting for a reconnection.
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_PENDING_COMMANDS,
  };
  if (config.url) {
    return createClient({
      url: config.url,
      ...(config.password !== undefined && credentials),
      ...commands,
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000) },
    }) as RedisClientType;
  }
  const sentinel = config.sentinel!;
  return createSentinel({
    name: sentinel.master,
    sentinelRootNodes: sentinel.nodes,
    // Reads and writes both on the primary: a replica may lag behind, and is never written to.
    masterPoolSize: 1,
    replicaPoolSize: 0,
    // The primary's connection errors come out as the Sentinel client's 'error' events.
    passthroughClientErrorEvents: true,
    // Asks the Sentinels which node is primary this often, and moves when they name another.
    // node-redis would also learn it from their +switch-master, but 5.12 subscribes to
    // 'switch-master' and never hears it; and a primary that hangs (or whose node is gone)
    // without closing the connection is never left otherwise. While a round of asking runs,
    // node-redis holds commands: a Sentinel that accepts and does not answer is given up after
    // SENTINEL_TIMEOUT_MS, and the request path is bounded by REDIS_TIMEOUT_MS anyway.
    scanInterval: config.probeIntervalMs,
    nodeClientOptions: {
      ...credentials,
      ...commands,
      // A lost primary connection is not re-dialled at the same address: node-redis asks the
      // Sentinels which node is primary now and connects there (a node that was primary may be
      // back empty, or as a read-only replica). RedisConnection starts that rediscovery.
      socket: { connectTimeout: SENTINEL_TIMEOUT_MS, reconnectStrategy: false },
    },
    sentinelClientOptions: {
      username: sentinel.username,
      password: sentinel.password,
      // No handshake commands of its own (they have no time limit), and a limit on the others.
      disableClientInfo: true,
      commandOptions: { timeout: SENTINEL_TIMEOUT_MS },
      socket: { connectTimeout: SENTINEL_TIMEOUT_MS },
    },
  }) as unknown as RedisSentinelType;
}

const address = (node: { host: string; port: number }) => (node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`);

/**
 * The process's one connection to the shared Redis, when `REDIS_URL` or `REDIS_SENTINELS` is set,
 * and its one failure policy: every call on a request's path goes through {@link run}, bounded by
 * `REDIS_TIMEOUT_MS`; after `REDIS_BREAKER_THRESHOLD` failed or timed-out calls in a row a circuit
 * breaker opens and requests stop calling Redis at all, while a background PING every
 * `REDIS_PROBE_INTERVAL_MS` (same budget) decides when it is well again. A hung Redis thus costs
 * requests what a missing one does. The client reconnects by itself; outages and breaker changes
 * are logged once each.
 *
 * Through Sentinel, requests use Redis only while node-redis holds a ready connection to the
 * primary the Sentinels name. When that connection is lost (the primary died, or a failover is
 * under way) requests skip Redis at once, and a background PING sets node-redis's rediscovery
 * going: it asks the Sentinels about once a second until they name a reachable primary (the same
 * one back, or the promoted replica). A primary that hangs instead is left when the periodic
 * question to the Sentinels (`scanInterval`) names another. A change of primary is a failover:
 * counted, and logged once with both addresses.
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private outageLogged = false;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly policy: IPolicy;
  private probeTimer: NodeJS.Timeout | undefined;
  private versionTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private skipping = false;
  private version: string | undefined;
  private shuttingDown = false;
  /** Through Sentinel: the primary last named, and the background PING waiting for one. */
  private primaryAddress: string | undefined;
  private rediscovery: Promise<unknown> | undefined;
  private failoverCount = 0;
  private readonly sentinel: RedisSentinelType | undefined;
  private readonly skipEmitter = new EventEmitter<RedisSkipReason>();
  private readonly versionEmitter = new EventEmitter<string>();
  private readonly failoverEmitter = new EventEmitter<RedisFailover>();
  /** Fires each time a caller goes on without Redis, with the reason. */
  readonly onSkip = this.skipEmitter.addListener;
  /** Fires with the server's version (`INFO server`) when it is first learned or changes. */
  readonly onServerVersion = this.versionEmitter.addListener;
  /** Fires when the Sentinels name another primary than the one in use. */
  readonly onFailover = this.failoverEmitter.addListener;
  /** How Redis is reached; `undefined` when it is not configured. */
  readonly via: RedisVia | undefined;

  constructor(
    @Inject(redisConfig.KEY) readonly config: ConfigType<typeof redisConfig>,
    @Inject(REDIS_CLIENT) readonly client: RedisEndpoint | undefined,
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
    if (config.sentinel) {
      this.via = 'sentinel';
      this.sentinel = this.client as RedisSentinelType;
      this.watchSentinel(this.sentinel);
      return;
    }
    this.via = 'url';
    if (config.url) {
      const url = new URL(config.url);
      this.primaryAddress = `${url.hostname}:${url.port || 6379}`;
    }
    const urlClient = this.client as RedisClientType;
    urlClient.on('ready', () => {
      if (this.outageLogged) this.logger.log('Redis is back; the shared cache tier is on again');
      this.outageLogged = false;
      this.readServerVersion();
    });
    urlClient.on('error', (error: Error) => this.unreachable(error));
  }

  /** True when Redis is configured. */
  get enabled(): boolean {
    return this.client !== undefined;
  }

  /**
   * True when the client holds a connection (says nothing about Redis answering: see
   * {@link breakerState}); through Sentinel, a ready connection to the primary they name.
   */
  get ready(): boolean {
    if (this.sentinel) return this.sentinel.isReady && this.sentinel.getMasterNode() !== undefined;
    return this.client?.isReady ?? false;
  }

  /** `closed`: requests use Redis; `open`: they skip it; `half-open`: the probe is running. */
  get breakerState(): BreakerState {
    return breakerStateName(this.breaker.state);
  }

  /** The server's `redis_version`, once a connection has answered `INFO server`. */
  get serverVersion(): string | undefined {
    return this.version;
  }

  /** `host:port` of the Redis in use: `REDIS_URL`'s, or the primary the Sentinels last named. */
  get primary(): string | undefined {
    return this.primaryAddress;
  }

  /** Primary changes seen through Sentinel since start-up. */
  get failovers(): number {
    return this.failoverCount;
  }

  /**
   * Runs one Redis command under the one Redis failure policy: bounded by `REDIS_TIMEOUT_MS`,
   * skipped while Redis is disconnected or the breaker is open. Resolves `undefined` when the
   * command was skipped, failed or ran out of time, so a caller on a request's path goes on
   * without Redis. `operation` names the command in its trace span (e.g. `GET`, `MULTI`).
   */
  async run<T>(command: (client: RedisCommands) => Promise<T>, operation = 'command'): Promise<T | undefined> {
    const client = this.client as RedisCommands | undefined;
    if (!client) return undefined;
    if (!this.ready) {
      if (this.sentinel) this.rediscover();
      return this.skip('disconnected');
    }
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
    this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    clearTimeout(this.probeTimer);
    clearTimeout(this.versionTimer);
    clearTimeout(this.connectTimer);
    if (!this.client?.isOpen) return;
    const client = this.client;
    await client.close().catch(() => client.destroy());
  }

  private connect(): void {
    const client = this.client;
    if (!client || this.shuttingDown) return;
    client.connect().then(
      // The URL client says so with 'ready'; the Sentinel client has its primary connected now
      // (or gave its connection up because it is being closed).
      () => this.sentinel && this.ready && this.back(),
      (error: Error) => this.connectFailed(error),
    );
  }

  private connectFailed(error: Error): void {
    // The URL client retries by itself. node-redis's Sentinel client gives up its first
    // connection after about 16 rounds of asking every Sentinel; start it again, so the service
    // joins the Sentinels whenever they come.
    const sentinel = this.sentinel;
    if (!sentinel || this.shuttingDown) return;
    this.unreachable(error);
    void sentinel
      .destroy()
      .catch(() => undefined)
      .then(() => {
        clearTimeout(this.connectTimer);
        this.connectTimer = setTimeout(() => this.connect(), this.config.probeIntervalMs);
        this.connectTimer.unref();
      });
  }

  private watchSentinel(sentinel: RedisSentinelType): void {
    const master = this.config.sentinel!.master;
    // Without a listener node-redis's 'error' events would throw: a Sentinel that does not
    // answer, or (passed through) the primary's connection failing. Without a primary, an
    // outage, logged once until Redis is back (a lost primary connection is not re-dialled by
    // node-redis: rediscover); with one, only a Sentinel failed, and requests are not affected.
    sentinel.on('error', (error: unknown) => {
      if (this.ready) {
        this.logger.debug(`Redis Sentinel: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      this.unreachable(error);
      this.rediscover();
    });
    sentinel.on('topology-change', (event: { type: string; node?: { host: string; port: number } }) => {
      if (event.type !== 'MASTER_CHANGE' || !event.node) return;
      const next = address(event.node);
      const previous = this.primaryAddress;
      this.primaryAddress = next;
      if (previous === undefined) {
        this.logger.log(`Redis through Sentinel: primary of "${master}" is ${next}`);
      } else if (previous !== next) {
        this.failoverCount++;
        this.logger.warn(
          `Redis failover: the Sentinels moved "${master}" from ${previous} to ${next}; ` +
            'requests use the new primary as soon as node-redis has connected to it',
        );
        this.failoverEmitter.emit({ from: previous, to: next });
      }
      // Connecting to it (a new primary, or the same one after its connection was lost).
      this.rediscover();
    });
  }

  /**
   * Through Sentinel, while no ready primary connection is held: one background PING at a time.
   * node-redis does not re-dial a lost primary; a command on it makes node-redis ask the
   * Sentinels and connect to the primary they name, retrying about once a second. The PING
   * resolves once that connection is up, which is when Redis is back.
   */
  private rediscover(): void {
    const sentinel = this.sentinel;
    if (!sentinel || this.rediscovery || this.shuttingDown || !sentinel.isReady || this.ready) return;
    this.rediscovery = sentinel.ping().then(
      () => {
        this.rediscovery = undefined;
        this.back();
      },
      () => {
        this.rediscovery = undefined;
        if (this.shuttingDown) return;
        // Refused (node-redis gave the command up): ask again, unless a primary came meanwhile.
        setTimeout(() => (this.ready ? this.back() : this.rediscover()), this.config.probeIntervalMs).unref();
      },
    );
  }

  private back(): void {
    if (this.shuttingDown) return;
    if (this.outageLogged) this.logger.log(`Redis is back (primary ${this.primaryAddress ?? 'unknown'}); the shared cache tier is on again`);
    this.outageLogged = false;
    // The primary may be another server: its version again. Through the breaker like any call,
    // so if the breaker opened on the node that failed (a hung primary times out), this is its
    // probe, at once rather than at the next tick.
    this.readServerVersion();
  }

  private unreachable(error: unknown): void {
    if (this.outageLogged || this.shuttingDown) return;
    this.outageLogged = true;
    const reason = error instanceof Error ? error.message || error.name : String(error);
    this.logger.warn(`Redis unreachable (${reason}); serving from the in-process cache and Shoutcloud until it returns`);
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
    const client = this.client as RedisCommands | undefined;
    if (!client) return;
    // A failure opens the breaker again, which schedules the next probe.
    this.policy.execute(() => client.ping()).catch(() => undefined);
  }

  private readServerVersion(): void {
    const client = this.client as RedisCommands | undefined;
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
