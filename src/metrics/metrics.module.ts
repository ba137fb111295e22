import { Module } from '@nestjs/common';
import { namespaceProvider } from '../config/config-namespace.js';
import { HealthModule } from '../health/health.module.js';
import { RedisModule } from '../redis/redis.module.js';
import { ShoutcloudModule } from '../shoutcloud/shoutcloud.module.js';
import { metricsConfig } from './metrics.config.js';
import { MetricsServer } from './metrics.server.js';
import { MetricsService } from './metrics.service.js';

/** The metrics, and the port they (and the detailed readiness) are served on: nothing on the public port. */
@Module({
  imports: [ShoutcloudModule, RedisModule, HealthModule],
  providers: [MetricsService, MetricsServer, namespaceProvider(metricsConfig)],
  exports: [MetricsService],
})
export class MetricsModule {}
