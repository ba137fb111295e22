import { Module, type DynamicModule } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { RedisConnection } from '../redis/redis.connection.js';
import { RedisModule } from '../redis/redis.module.js';
import { clientAddress, type AddressedRequest } from './client-address.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import { rateLimitConfig } from './rate-limit.config.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

/**
 * Per-client rate limit, `RATE_LIMIT_PER_MINUTE` requests a minute (429 with `Retry-After`) for
 * each IPv4 address or IPv6 network of `RATE_LIMIT_IPV6_PREFIX` bits (`clientAddress`), shared
 * through Redis when configured. Unset: no guard is installed at all, so the hot path pays
 * nothing (the package is still loaded: the health controller carries its `@SkipThrottle`, which
 * exempts the probes when the limit is on).
 */
@Module({})
export class RateLimitModule {
  static async forRoot({ perMinute: limit, ipv6PrefixLength }: ConfigType<typeof rateLimitConfig>): Promise<DynamicModule> {
    if (!limit) return { module: RateLimitModule };
    const { ThrottlerGuard, ThrottlerModule } = await import('@nestjs/throttler');
    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRootAsync({
          imports: [RedisModule],
          inject: [RedisConnection],
          useFactory: (redis: RedisConnection) => ({
            // One budget per client across every route (the default keys by handler too).
            throttlers: [{ name: 'default', ttl: 60_000, limit }],
            getTracker: (request) => clientAddress(request as AddressedRequest, ipv6PrefixLength),
            generateKey: (_context, tracker, name) => `${name}:${tracker}`,
            // Without Redis, or whenever it is out, the same fixed-window rule counted here.
            storage: redis.enabled
              ? new RedisThrottlerStorage(redis, new FixedWindowThrottlerStorage())
              : new FixedWindowThrottlerStorage(),
          }),
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    };
  }
}
