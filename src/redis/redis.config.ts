import { configNamespace } from '../config/config-namespace.js';

/** One `host:port` of a Redis node or Sentinel. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** `host:port,[::1]:port` as validated by the environment, into addresses. */
export function parseNodeList(list: string): RedisNodeAddress[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const colon = entry.lastIndexOf(':');
      return { host: entry.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(entry.slice(colon + 1)) };
    });
}

/** The shared Redis, if any: second cache tier and rate-limit counters across replicas. */
export const redisConfig = configNamespace('redis', (env) => ({
  /** `REDIS_URL`: one Redis at a fixed address. */
  url: env.REDIS_URL,
  /** `REDIS_SENTINELS` and `REDIS_SENTINEL_MASTER`: the current primary of a Sentinel-monitored set. */
  sentinel: env.REDIS_SENTINELS
    ? {
        nodes: parseNodeList(env.REDIS_SENTINELS),
        master: env.REDIS_SENTINEL_MASTER!,
        username: env.REDIS_SENTINEL_USERNAME,
        password: env.REDIS_SENTINEL_PASSWORD,
      }
    : undefined,
  /** `REDIS_CLUSTER_NODES`: the seed nodes of a Redis Cluster. */
  cluster: env.REDIS_CLUSTER_NODES ? { nodes: parseNodeList(env.REDIS_CLUSTER_NODES) } : undefined,
  /** Credentials for the Redis nodes, whichever way they are reached. */
  username: env.REDIS_USERNAME,
  password: env.REDIS_PASSWORD,
  commandTimeoutMs: env.REDIS_TIMEOUT_MS,
  breakerThreshold: env.REDIS_BREAKER_THRESHOLD,
  probeIntervalMs: env.REDIS_PROBE_INTERVAL_MS,
}));
