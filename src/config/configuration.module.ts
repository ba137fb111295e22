import { Global, Module, type DynamicModule } from '@nestjs/common';
import { redisConfig } from '../redis/redis.config.js';
import { shoutcloudConfig } from '../shoutcloud/shoutcloud.config.js';
import { appConfig } from './app.config.js';
import { namespaceProvider } from './config-namespace.js';
import { Environment } from './environment.js';

const NAMESPACES = [appConfig, redisConfig, shoutcloudConfig];

/**
 * The app's validated environment, and the configuration namespaces of the app and of its shared
 * dependencies, read from it and injected where used:
 * `@Inject(shoutcloudConfig.KEY) config: ConfigType<typeof shoutcloudConfig>`. A feature module
 * may provide a namespace of its own from the same environment (`namespaceProvider`).
 */
@Global()
@Module({})
export class ConfigurationModule {
  static forRoot(env: Environment): DynamicModule {
    const namespaces = NAMESPACES.map(namespaceProvider);
    return {
      module: ConfigurationModule,
      providers: [{ provide: Environment, useValue: env }, ...namespaces],
      exports: [Environment, ...namespaces.map(({ provide }) => provide)],
    };
  }
}
