import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { appConfig } from '../config/app.config.js';
import { RedisModule } from '../redis/redis.module.js';
import { ShoutcloudModule } from '../shoutcloud/shoutcloud.module.js';
import { HealthController } from './health.controller.js';
import { Readiness } from './readiness.js';
import { ShutdownGrace } from './shutdown-grace.js';

@Module({
  imports: [
    // Terminus answers 503 from the first moment of shutdown and keeps serving for the delay,
    // so Kubernetes stops routing here before the listener closes.
    TerminusModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: ConfigType<typeof appConfig>) => ({
        gracefulShutdownTimeoutMs: config.shutdownDelayMs,
        errorLogStyle: 'json',
      }),
    }),
    ShoutcloudModule,
    RedisModule,
  ],
  controllers: [HealthController],
  providers: [ShutdownGrace, Readiness],
  exports: [ShutdownGrace, Readiness],
})
export class HealthModule {}
