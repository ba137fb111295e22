import type { ConfigType } from '@nestjs/config';
import type { redisConfig } from './redis.config.js';
import type { RedisEndpoint } from './redis.endpoint.js';
import { createSentinelClient } from './redis.sentinel.js';
import { SentinelEndpoint } from './redis.sentinel-follower.js';
import { createUrlClient, UrlEndpoint } from './redis.url.js';

/**
 * The way to reach Redis that the configuration names (`REDIS_URL` or `REDIS_SENTINELS`), not
 * yet connected; `undefined` when neither is set.
 */
export async function createRedisEndpoint(config: ConfigType<typeof redisConfig>): Promise<RedisEndpoint | undefined> {
  const credentials = { username: config.username, password: config.password };
  if (config.url) return new UrlEndpoint(await createUrlClient({ url: config.url, ...credentials }), config.url);
  const sentinel = config.sentinel;
  if (!sentinel) return undefined;
  const client = await createSentinelClient({
    ...sentinel,
    nodeUsername: config.username,
    nodePassword: config.password,
    scanIntervalMs: config.probeIntervalMs,
  });
  return new SentinelEndpoint(client, sentinel.master, config.probeIntervalMs);
}
