import type { RedisClientType } from '@keyv/redis';
import type { RedisNodeAddress } from './redis.config.js';
import { COMMAND_OPTIONS } from './redis.endpoint.js';

/**
 * Through Sentinel, the time limit for one Sentinel's answer, and for connecting to the primary
 * it names and learning that node's role: past it, the Sentinel or the node is given up.
 */
export const SENTINEL_TIMEOUT_MS = 1000;

/** What {@link primaryClients} needs from the Redis configuration. */
export interface PrimaryClientOptions {
  /** Credentials of the Redis nodes. */
  readonly username?: string;
  readonly password?: string;
}

/**
 * A maker of node-redis's client for the primary the Sentinels name, not yet connected. It never
 * re-dials the same address: a node that was primary may be back empty, or as a read-only
 * replica, so after a lost connection the Sentinels are asked again (the Sentinel follower).
 */
export async function primaryClients(options: PrimaryClientOptions): Promise<(primary: RedisNodeAddress) => RedisClientType> {
  // Loaded only when configured: the client is a few hundred modules of start-up and memory.
  const { createClient } = await import('@keyv/redis');
  return (primary) =>
    createClient({
      username: options.username,
      password: options.password,
      ...COMMAND_OPTIONS,
      socket: { host: primary.host, port: primary.port, connectTimeout: SENTINEL_TIMEOUT_MS, reconnectStrategy: false },
    }) as RedisClientType;
}
