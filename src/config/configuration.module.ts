import { Global, Module, type DynamicModule } from '@nestjs/common';
import { metricsConfig } from '../metrics/metrics.config.js';
import { redisConfig } from '../redis/redis.config.js';
import { shoutcloudConfig } from '../shoutcloud/shoutcloud.config.js';
import { transformConfig } from '../transform/transform.config.js';
import { appConfig } from './app.config.js';
import { Environment } from './environment.js';

const NAMESPACES = [appConfig, metricsConfig, redisConfig, shoutcloudConfig, transformConfig];

/**
 * Every feature's configuration namespace, read from the environment the app was created with
 * and injected where used: `@Inject(shoutcloudConfig.KEY) config: ConfigType<typeof shoutcloudConfig>`.
 */
@Global()
@Module({})
export class ConfigurationModule {
  static forRoot(env: Environment): DynamicModule {
    const namespaces = NAMESPACES.map((namespace) => ({ provide: namespace.KEY, inject: [Environment], useFactory: namespace }));
    return {
      module: ConfigurationModule,
      providers: [{ provide: Environment, useValue: env }, ...namespaces],
      exports: namespaces.map(({ provide }) => provide),
    };
  }
}
