import type { RedisSentinelType } from '@keyv/redis';
import type { RedisNodeAddress } from './redis.config.js';
import { COMMAND_OPTIONS } from './redis.endpoint.js';

/**
 * Through Sentinel, a round of asking the Sentinels holds node-redis's commands until it ends: a
 * Sentinel or node that does not connect or answer within this is given up for the next.
 */
export const SENTINEL_TIMEOUT_MS = 1000;

/** What {@link sentinelClients} needs from the Redis configuration. */
export interface SentinelOptions {
  readonly master: string;
  /** Credentials of the Sentinels. */
  readonly username?: string;
  readonly password?: string;
  /** Credentials of the Redis nodes. */
  readonly nodeUsername?: string;
  readonly nodePassword?: string;
}

/**
 * A maker of node-redis's Sentinel client for `REDIS_SENTINELS`: each client asks the Sentinels
 * it is given, in that order, and is not yet connected.
 */
export async function sentinelClients(options: SentinelOptions): Promise<(nodes: readonly RedisNodeAddress[]) => RedisSentinelType> {
  // Loaded only when configured: the client is a few hundred modules of start-up and memory.
  const { createSentinel } = await import('@keyv/redis');
  return (nodes) => createSentinel({
    name: options.master,
    sentinelRootNodes: [...nodes],
    // Reads and writes both on the primary: a replica may lag behind, and is never written to.
    masterPoolSize: 1,
    replicaPoolSize: 0,
    // The primary's connection errors come out as the Sentinel client's 'error' events.
    passthroughClientErrorEvents: true,
    // No periodic asking of the Sentinels by node-redis: it holds every command while it asks.
    // The Sentinel follower asks them itself (node-redis 5.12 subscribes to 'switch-master' and
    // never hears the Sentinels' +switch-master, so it would not move otherwise).
    scanInterval: 0,
    nodeClientOptions: {
      username: options.nodeUsername,
      password: options.nodePassword,
      ...COMMAND_OPTIONS,
      // A lost primary connection is not re-dialled at the same address: node-redis asks the
      // Sentinels which node is primary now and connects there (a node that was primary may be
      // back empty, or as a read-only replica). The Sentinel endpoint starts that rediscovery.
      socket: { connectTimeout: SENTINEL_TIMEOUT_MS, reconnectStrategy: false },
    },
    sentinelClientOptions: {
      username: options.username,
      password: options.password,
      // No handshake commands of its own. node-redis's command timeout stops once a command is
      // written, so a silent Sentinel is caught by the socket's: no byte within the limit ends
      // the connection, and node-redis asks the next Sentinel. The PINGs keep the connection
      // that listens for the Sentinels' events from looking silent while it is only idle.
      disableClientInfo: true,
      commandOptions: { timeout: SENTINEL_TIMEOUT_MS },
      pingInterval: SENTINEL_TIMEOUT_MS / 4,
      socket: { connectTimeout: SENTINEL_TIMEOUT_MS, socketTimeout: SENTINEL_TIMEOUT_MS },
    },
  }) as unknown as RedisSentinelType;
}
