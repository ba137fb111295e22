import { configNamespace } from '../config/config-namespace.js';

/** Where `/metrics` is served (its own port, on the public port's interface) and how long one rendering is reused. */
export const metricsConfig = configNamespace('metrics', (env) => ({
  port: env.METRICS_PORT,
  host: env.HOST,
  cacheMs: env.METRICS_CACHE_MS,
}));
