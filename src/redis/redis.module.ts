import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { redisConfig } from './redis.config.js';
import { RedisConnection } from './redis.connection.js';
import { RedisHealthIndicator } from './redis.health.js';

@Module({
  imports: [ConfigModule.forFeature(redisConfig), TerminusModule],
  providers: [RedisConnection, RedisHealthIndicator],
  exports: [RedisConnection, RedisHealthIndicator],
})
export class RedisModule {}
