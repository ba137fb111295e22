import { Logger } from '@nestjs/common';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface.js';
import type { RedisConnection } from '../redis/redis.connection.js';

/**
 * Fixed-window counters in the shared Redis, so a client's limit holds across replicas. While
 * Redis is down, counting falls back to this process (a looser limit beats refusing everyone).
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimit');
  private readonly local = new ThrottlerStorageService();

  constructor(private readonly redis: RedisConnection) {}

  async increment(key: string, ttlMs: number, limit: number, blockMs: number, name: string): Promise<ThrottlerStorageRecord> {
    const client = this.redis.client;
    if (!client || !this.redis.ready) return this.local.increment(key, ttlMs, limit, blockMs, name);
    try {
      const redisKey = `transform-api:rate:${name}:${key}`;
      const [hits, , remainingMs] = (await client
        .multi()
        .incr(redisKey)
        .pExpire(redisKey, ttlMs, 'NX')
        .pTTL(redisKey)
        .exec()) as unknown as [number, number, number];
      const timeToExpire = Math.max(1, Math.ceil(remainingMs / 1000));
      return { totalHits: hits, timeToExpire, isBlocked: hits > limit, timeToBlockExpire: hits > limit ? timeToExpire : 0 };
    } catch (error) {
      this.logger.debug(`Redis rate-limit counter failed, counting locally: ${(error as Error).message}`);
      return this.local.increment(key, ttlMs, limit, blockMs, name);
    }
  }
}
