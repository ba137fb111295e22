import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { createClient, type RedisClientType } from '@keyv/redis';
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

  constructor(@Inject(redisConfig.KEY) readonly config: ConfigType<typeof redisConfig>) {
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

  onModuleInit(): void {
    // Not awaited: start-up must not depend on a shared dependency being up.
    this.client?.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client?.isOpen) return;
    await this.client.close().catch(() => this.client?.destroy());
  }
}
