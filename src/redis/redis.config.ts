import { registerAs } from '@nestjs/config';
import { environment } from '../config/environment.js';

/** The shared Redis, if any: second cache tier and rate-limit counters across replicas. */
export const redisConfig = registerAs('redis', () => {
  const env = environment();
  return {
    url: env.REDIS_URL,
    commandTimeoutMs: env.REDIS_TIMEOUT_MS,
    breakerThreshold: env.REDIS_BREAKER_THRESHOLD,
    probeIntervalMs: env.REDIS_PROBE_INTERVAL_MS,
  };
});

export type RedisConfig = ReturnType<typeof redisConfig>;
