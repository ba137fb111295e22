import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module.js';
import { RedisModule } from '../redis/redis.module.js';
import { ShoutcloudModule } from '../shoutcloud/shoutcloud.module.js';
import { MetricsServer } from './metrics.server.js';
import { MetricsService } from './metrics.service.js';

/** The metrics, and the port they (and the detailed readiness) are served on: nothing on the public port. */
@Module({
  imports: [ShoutcloudModule, RedisModule, HealthModule],
  providers: [MetricsService, MetricsServer],
  exports: [MetricsService],
})
export class MetricsModule {}
