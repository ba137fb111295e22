import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { redisConfig } from './redis.config.js';
import { createRedisClient, REDIS_CLIENT, RedisConnection } from './redis.connection.js';
import { RedisHealthIndicator } from './redis.health.js';

@Module({
  imports: [TerminusModule],
  providers: [
    { provide: REDIS_CLIENT, inject: [redisConfig.KEY], useFactory: (config: ConfigType<typeof redisConfig>) => createRedisClient(config) },
    RedisConnection,
    RedisHealthIndicator,
  ],
  exports: [RedisConnection, RedisHealthIndicator],
})
export class RedisModule {}
