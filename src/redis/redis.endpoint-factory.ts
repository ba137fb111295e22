import type { ConfigType } from '@nestjs/config';
import type { redisConfig } from './redis.config.js';
import { ClusterEndpoint, clusterClients } from './redis.cluster.js';
import type { RedisEndpoint } from './redis.endpoint.js';
import { primaryClients, SENTINEL_TIMEOUT_MS } from './redis.sentinel.js';
import { sentinelAsker } from './redis.sentinel-probe.js';
import { SentinelEndpoint } from './redis.sentinel-follower.js';
import { UrlEndpoint, urlClients } from './redis.url.js';

/**
 * The way to reach Redis that the configuration names (`REDIS_URL`, `REDIS_SENTINELS` or
 * `REDIS_CLUSTER_NODES`), not yet connected; `undefined` when none is set.
 */
export async function createRedisEndpoint(config: ConfigType<typeof redisConfig>): Promise<RedisEndpoint | undefined> {
  const credentials = { username: config.username, password: config.password };
  if (config.url) return new UrlEndpoint(await urlClients({ url: config.url, ...credentials }), config.url);
  if (config.cluster) {
    const create = await clusterClients(credentials);
    return new ClusterEndpoint({ seeds: config.cluster.nodes, intervalMs: config.probeIntervalMs, create });
  }
  const sentinel = config.sentinel;
  if (!sentinel) return undefined;
  const create = await primaryClients(credentials);
  const ask = await sentinelAsker({ ...sentinel, timeoutMs: SENTINEL_TIMEOUT_MS });
  return new SentinelEndpoint({ master: sentinel.master, nodes: sentinel.nodes, intervalMs: config.probeIntervalMs, timeoutMs: SENTINEL_TIMEOUT_MS, create, ask });
}
