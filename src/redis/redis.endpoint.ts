import type { RedisClientType } from '@keyv/redis';
import { EventEmitter } from 'cockatiel';

/**
 * The commands a caller of `RedisConnection.run` may use. Every way of reaching Redis has them
 * with the same arguments and replies.
 */
export type RedisCommands = Pick<RedisClientType, 'get' | 'set' | 'del' | 'multi' | 'ping' | 'info'>;

/** How Redis is reached: `url` (`REDIS_URL`), `sentinel` (`REDIS_SENTINELS`) or `cluster` (`REDIS_CLUSTER_NODES`). */
export type RedisVia = 'url' | 'sentinel' | 'cluster';

/** A change of the primary in use. */
export interface RedisFailover {
  readonly from: string;
  readonly to: string;
}

/** A node's address as logs and `/health` show it: `host:port`, `[v6]:port`. */
export const nodeAddress = (node: { host: string; port: number }): string =>
  node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;

/** An error (or the string node-redis sometimes emits instead) as one short reason. */
export const reasonOf = (error: unknown): string => (error instanceof Error ? error.message || error.name : String(error));

/**
 * `work`'s result, or an error saying `what` once `ms` have passed. For the steps node-redis does
 * not bound itself: its command timeout stops once a command is written, and a connection's
 * handshake has none, so a server that accepts and never answers would hold them for ever.
 */
export async function withinTime<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

// node-redis's own command timeout only covers commands not yet written to the socket, and a
// paused Redis keeps accepting writes: what piles up is commands waiting for a reply. The
// breaker keeps that pile small; this bound holds even if it did not (a full queue rejects at
// once, which counts as a failure).
const MAX_PENDING_COMMANDS = 1000;

/** node-redis options every way of reaching a Redis node shares. */
export const COMMAND_OPTIONS = {
  // Commands fail at once while disconnected instead of waiting for a reconnection.
  disableOfflineQueue: true,
  commandsQueueMaxLength: MAX_PENDING_COMMANDS,
} as const;

/**
 * One way of reaching the shared Redis, wrapping node-redis's own client for it: it connects,
 * reconnects and follows the primary by itself, and tells `RedisConnection` (which owns the one
 * failure policy) when a connection is ready, when Redis is unreachable and when the primary moved.
 */
export abstract class RedisEndpoint {
  private readonly readyEmitter = new EventEmitter<void>();
  private readonly unreachableEmitter = new EventEmitter<unknown>();
  private readonly failoverEmitter = new EventEmitter<RedisFailover>();
  /** Fires when a connection is ready for commands: the first one, or one after an outage. */
  readonly onReady = this.readyEmitter.addListener;
  /** Fires with the reason each time connecting or a connection fails. */
  readonly onUnreachable = this.unreachableEmitter.addListener;
  /** Fires when the primary in use changes. */
  readonly onFailover = this.failoverEmitter.addListener;

  /** How this endpoint reaches Redis. */
  abstract readonly via: RedisVia;

  /** What commands run on; meaningful only while {@link ready}. */
  abstract readonly commands: RedisCommands;

  /** True while a connection is ready for commands (says nothing about Redis answering them). */
  abstract get ready(): boolean;

  /** `host:port` of the Redis in use, once known. */
  abstract get primary(): string | undefined;

  /** What `/health` shows about this way of reaching Redis, beyond `via` and `primary`. */
  details(): Record<string, unknown> {
    return {};
  }

  /** A command was skipped for want of a connection: an endpoint that reconnects lazily starts now. */
  wanted(): void {}

  /** Starts connecting in the background; never throws, never waits for Redis. */
  abstract connect(): void;

  /** Closes every connection; nothing reconnects afterwards. */
  abstract close(): Promise<void>;

  protected readyNow(): void {
    this.readyEmitter.emit();
  }

  protected unreachable(error: unknown): void {
    this.unreachableEmitter.emit(error);
  }

  protected movedPrimary(failover: RedisFailover): void {
    this.failoverEmitter.emit(failover);
  }
}
