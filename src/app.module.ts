import { Module, type DynamicModule } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { ConfigurationModule } from './config/configuration.module.js';
import type { Environment } from './config/environment.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { rateLimitConfig } from './rate-limit/rate-limit.config.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { TransformModule } from './transform/transform.module.js';

/** What `createApp` may set besides the environment. */
export interface AppOptions {
  /** Where log lines go instead of stdout (tests read an app's lines there). */
  readonly logDestination?: DestinationStream;
}

@Module({})
export class AppModule {
  /** The whole service, configured by one validated environment (`config/environment.ts`). */
  static forRoot(env: Environment, options: AppOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigurationModule.forRoot(env),
        LoggingModule.forRoot(options.logDestination),
        // Whether a guard exists at all is decided here, before the app is built.
        RateLimitModule.forRoot(rateLimitConfig(env)),
        TransformModule,
        HealthModule,
        MetricsModule,
      ],
    };
  }
}
