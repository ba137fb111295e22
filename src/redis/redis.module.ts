import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { namespaceProvider } from '../config/config-namespace.js';
import { redisConfig } from './redis.config.js';
import { REDIS_ENDPOINT, RedisConnection } from './redis.connection.js';
import { createRedisEndpoint } from './redis.endpoint-factory.js';
import { RedisHealthIndicator } from './redis.health.js';

@Module({
  imports: [TerminusModule],
  providers: [
    namespaceProvider(redisConfig),
    { provide: REDIS_ENDPOINT, inject: [redisConfig.KEY], useFactory: (config: ConfigType<typeof redisConfig>) => createRedisEndpoint(config) },
    RedisConnection,
    RedisHealthIndicator,
  ],
  exports: [RedisConnection, RedisHealthIndicator],
})
export class RedisModule {}
