import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { appConfig } from './config/app.config.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { TransformModule } from './transform/transform.module.js';

@Module({
  imports: [
    // The environment is validated in main.ts before this module loads (config/environment.ts).
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] }),
    LoggingModule,
    RateLimitModule.forRoot(),
    TransformModule,
    HealthModule,
    MetricsModule,
  ],
})
export class AppModule {}
