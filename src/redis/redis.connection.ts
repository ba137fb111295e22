import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { createClient, type RedisClientType } from '@keyv/redis';
import { TimeoutStrategy, timeout, type TimeoutPolicy } from 'cockatiel';
import { redisConfig } from './redis.config.js';

/**
 * The process's one connection to the shared Redis, when `REDIS_URL` is set. Commands fail at
 * once while it is down (no offline queue), so callers fall back instead of waiting; it
 * reconnects by itself, and an outage is logged once when it starts and once when it ends.
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: RedisClientType | undefined;
  private outageLogged = false;
  // Aggressive: a Redis call cannot be cancelled, so past its budget the caller stops waiting.
  private readonly budget: TimeoutPolicy;

  constructor(@Inject(redisConfig.KEY) readonly config: ConfigType<typeof redisConfig>) {
    this.budget = timeout(config.commandTimeoutMs, TimeoutStrategy.Aggressive);
    if (!config.url) return;
    this.client = createClient({
      url: config.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 1000,
        reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000),
      },
    }) as RedisClientType;
    this.client.on('ready', () => {
      if (this.outageLogged) this.logger.log('Redis is back; the shared cache tier is on again');
      this.outageLogged = false;
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

  /** True when commands can be sent now. */
  get ready(): boolean {
    return this.client?.isReady ?? false;
  }

  /**
   * Runs one Redis command under the one Redis failure policy: bounded by `REDIS_TIMEOUT_MS`,
   * skipped while Redis is not usable. Resolves `undefined` when the command was skipped, failed
   * or ran out of time, so a caller on a request's path goes on without Redis.
   */
  async run<T>(command: (client: RedisClientType) => Promise<T>): Promise<T | undefined> {
    const client = this.client;
    if (!client?.isReady) return undefined;
    const operation = command(client);
    try {
      return await this.budget.execute(() => operation);
    } catch (error) {
      // The operation may still settle after a timeout; its rejection is not unhandled.
      operation.catch(() => undefined);
      this.logger.debug(`Redis call skipped: ${(error as Error).message}`);
      return undefined;
    }
  }

  onModuleInit(): void {
    // Not awaited: start-up must not depend on a shared dependency being up.
    this.client?.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client?.isOpen) return;
    await this.client.close().catch(() => this.client?.destroy());
  }
}
