import { configNamespace } from '../config/config-namespace.js';

/** The shared Redis, if any: second cache tier and rate-limit counters across replicas. */
export const redisConfig = configNamespace('redis', (env) => ({
  url: env.REDIS_URL,
  commandTimeoutMs: env.REDIS_TIMEOUT_MS,
  breakerThreshold: env.REDIS_BREAKER_THRESHOLD,
  probeIntervalMs: env.REDIS_PROBE_INTERVAL_MS,
}));
