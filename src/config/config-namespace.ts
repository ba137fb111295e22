import { registerAs, type ConfigObject } from '@nestjs/config';
import { Environment } from './environment.js';

/**
 * A feature's `registerAs` namespace, computed from the app's validated environment: it has the
 * usual `KEY` to inject and `ConfigType<typeof namespace>` to type it, and its factory takes the
 * {@link Environment} that `ConfigurationModule` was given, so two apps in one process can be
 * configured differently (none reads `process.env`). `ConfigurationModule` provides the shared
 * ones to every module; a feature's own module may provide its own with {@link namespaceProvider}.
 */
export function configNamespace<T extends ConfigObject>(name: string, read: (env: Environment) => T) {
  const factory = (env: Environment): T => {
    // ConfigModule.forFeature would call the factory with nothing.
    if (env === undefined) throw new Error(`the '${name}' namespace is provided from the app's Environment (namespaceProvider), not by ConfigModule`);
    return read(env);
  };
  // registerAs only attaches the token; the factory's parameter is ConfigurationModule's to fill.
  return registerAs(name, factory as unknown as () => T) as unknown as typeof factory & { readonly KEY: string };
}

/** The provider of a namespace, computed from the app's {@link Environment}. */
export function namespaceProvider(namespace: ReturnType<typeof configNamespace>) {
  return { provide: namespace.KEY, inject: [Environment], useFactory: namespace };
}
