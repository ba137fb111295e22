import { Global, Module, type DynamicModule } from '@nestjs/common';
import { appConfig } from './app.config.js';
import { namespaceProvider } from './config-namespace.js';
import { Environment } from './environment.js';

const NAMESPACES = [appConfig];

/**
 * The app's validated environment, and the configuration namespace several modules inject (the
 * app's), read from it and injected where used:
 * `@Inject(appConfig.KEY) config: ConfigType<typeof appConfig>`. A feature module provides the
 * namespace only it reads from the same environment (`namespaceProvider`).
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
