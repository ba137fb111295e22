import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module.js';
import { ShoutcloudModule } from '../shoutcloud/shoutcloud.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

@Module({
  imports: [ShoutcloudModule, RedisModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
