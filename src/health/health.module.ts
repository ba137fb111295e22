import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { appConfig } from '../config/app.config.js';
import { RedisModule } from '../redis/redis.module.js';
import { ShoutcloudModule } from '../shoutcloud/shoutcloud.module.js';
import { HealthController } from './health.controller.js';
import { ShutdownGrace } from './shutdown-grace.js';

@Module({
  imports: [
    ConfigModule.forFeature(appConfig),
    // Terminus answers 503 from the first moment of shutdown and keeps serving for the delay,
    // so Kubernetes stops routing here before the listener closes.
    TerminusModule.forRootAsync({
      imports: [ConfigModule.forFeature(appConfig)],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        gracefulShutdownTimeoutMs: config.getOrThrow<number>('app.shutdownDelayMs'),
        errorLogStyle: 'json',
      }),
    }),
    ShoutcloudModule,
    RedisModule,
  ],
  controllers: [HealthController],
  providers: [ShutdownGrace],
  exports: [ShutdownGrace],
})
export class HealthModule {}
