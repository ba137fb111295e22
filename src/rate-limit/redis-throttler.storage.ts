import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface.js';
import type { RedisConnection } from '../redis/redis.connection.js';

/**
 * How long counting must have gone without a fallback before "shared again" is logged. While one
 * shard of a Redis Cluster is away, counters on it fall back and counters on the others do not,
 * request by request: without this, each request would log a switch.
 */
export const SHARED_AGAIN_AFTER_MS = 1000;

/** `PEXPIRE … NX` (start a window only once) came with Redis 7.0. */
export const supportsExpireNx = (version: string) => Number.parseInt(version, 10) >= 7;

/**
 * Fixed-window counters in the shared Redis, so a client's limit holds across replicas. Every
 * Redis call goes through the connection's one failure policy; whenever Redis does not answer in
 * time (down, hung, breaker open) or is older than 7.0, counting falls back to this process: a
 * looser limit (each replica allows the full rate) beats refusing everyone or waiting on Redis.
 * Each switch between shared and per-replica counting is logged once, at `warn`; the way back
 * once no counter has fallen back for {@link SHARED_AGAIN_AFTER_MS}.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimit');
  private shared = true;
  private lastFallbackAt = 0;

  /** `local`: this process's own counters, used whenever Redis is not. */
  constructor(
    private readonly redis: RedisConnection,
    private readonly local: ThrottlerStorage,
  ) {
    redis.onServerVersion((version) => {
      if (supportsExpireNx(version)) return;
      this.shared = false;
      this.logger.warn(
        `Redis ${version} is older than 7.0 and has no PEXPIRE NX: rate limits are counted per replica ` +
          '(each replica allows RATE_LIMIT_PER_MINUTE on its own) until Redis is upgraded',
      );
    });
  }

  async increment(key: string, ttlMs: number, limit: number, blockMs: number, name: string): Promise<ThrottlerStorageRecord> {
    const version = this.redis.serverVersion;
    // Until a connection has said which version it runs, nothing was ever shared: count here.
    if (version === undefined || !supportsExpireNx(version)) return this.local.increment(key, ttlMs, limit, blockMs, name);
    const redisKey = `transform-api:rate:${name}:${key}`;
    const reply = await this.redis.run(
      (client) => client.multi().incr(redisKey).pExpire(redisKey, ttlMs, 'NX').pTTL(redisKey).exec(),
      'MULTI',
    );
    if (!reply) {
      this.lastFallbackAt = Date.now();
      this.switchTo(false);
      return this.local.increment(key, ttlMs, limit, blockMs, name);
    }
    if (Date.now() - this.lastFallbackAt >= SHARED_AGAIN_AFTER_MS) this.switchTo(true);
    const [hits, , remainingMs] = reply as unknown as [number, number, number];
    const timeToExpire = Math.max(1, Math.ceil(remainingMs / 1000));
    return { totalHits: hits, timeToExpire, isBlocked: hits > limit, timeToBlockExpire: hits > limit ? timeToExpire : 0 };
  }

  private switchTo(shared: boolean): void {
    if (shared === this.shared) return;
    this.shared = shared;
    this.logger.warn(
      shared
        ? 'Rate limits are shared through Redis again'
        : 'Redis did not answer a rate-limit counter in time: rate limits are counted per replica until it does',
    );
  }
}
