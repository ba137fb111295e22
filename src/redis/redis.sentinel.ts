import type { RedisSentinelType } from '@keyv/redis';
import type { RedisNodeAddress } from './redis.config.js';
import { COMMAND_OPTIONS } from './redis.endpoint.js';

// Through Sentinel, a round of asking the Sentinels holds node-redis's commands until it ends:
// a Sentinel or node that does not connect or answer within this is given up for the next.
const SENTINEL_TIMEOUT_MS = 1000;

/** What {@link createSentinelClient} needs from the Redis configuration. */
export interface SentinelOptions {
  readonly nodes: readonly RedisNodeAddress[];
  readonly master: string;
  /** Credentials of the Sentinels. */
  readonly username?: string;
  readonly password?: string;
  /** Credentials of the Redis nodes. */
  readonly nodeUsername?: string;
  readonly nodePassword?: string;
  /** How often node-redis asks the Sentinels which node is primary. */
  readonly scanIntervalMs: number;
}

/** node-redis's Sentinel client for `REDIS_SENTINELS`, not yet connected. */
export async function createSentinelClient(options: SentinelOptions): Promise<RedisSentinelType> {
  // Loaded only when configured: the client is a few hundred modules of start-up and memory.
  const { createSentinel } = await import('@keyv/redis');
  return createSentinel({
    name: options.master,
    sentinelRootNodes: [...options.nodes],
    // Reads and writes both on the primary: a replica may lag behind, and is never written to.
    masterPoolSize: 1,
    replicaPoolSize: 0,
    // The primary's connection errors come out as the Sentinel client's 'error' events.
    passthroughClientErrorEvents: true,
    // Asks the Sentinels which node is primary this often, and moves when they name another.
    // node-redis would also learn it from their +switch-master, but 5.12 subscribes to
    // 'switch-master' and never hears it; and a primary that hangs (or whose node is gone)
    // without closing the connection is never left otherwise. While a round of asking runs,
    // node-redis holds commands: a Sentinel that accepts and does not answer is given up after
    // SENTINEL_TIMEOUT_MS, and the request path is bounded by REDIS_TIMEOUT_MS anyway.
    scanInterval: options.scanIntervalMs,
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
      // No handshake commands of its own (they have no time limit), and a limit on the others.
      disableClientInfo: true,
      commandOptions: { timeout: SENTINEL_TIMEOUT_MS },
      socket: { connectTimeout: SENTINEL_TIMEOUT_MS },
    },
  }) as unknown as RedisSentinelType;
}
