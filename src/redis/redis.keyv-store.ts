import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { RedisConnection } from './redis.connection.js';

/**
 * A Keyv store on the shared Redis whose every command goes through {@link RedisConnection.run}:
 * the one time budget and breaker for Redis. `@keyv/redis`'s own store awaits the client
 * directly, so a Redis that accepts commands and never answers would hold every cache read.
 * A command skipped or failed reads as absent and writes as not written: a cache failure is
 * never a request failure.
 */
export class RedisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = {};
  namespace?: string;

  constructor(private readonly redis: RedisConnection) {
    super();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const stored = await this.redis.run((client) => client.get(key), 'GET');
    return (stored ?? undefined) as StoredData<Value> | undefined;
  }

  /** Keyv passes the entry's TTL; Redis expires the key then, so Redis holds no dead entries. */
  async set(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const written = await this.redis.run(
      (client) => client.set(key, value, ttlMs ? { expiration: { type: 'PX', value: ttlMs } } : undefined),
      'SET',
    );
    return written === 'OK';
  }

  async delete(key: string): Promise<boolean> {
    return ((await this.redis.run((client) => client.del(key), 'DEL')) ?? 0) > 0;
  }

  /** The shared tier is never cleared by the service: entries expire, or an operator flushes Redis. */
  async clear(): Promise<void> {
    throw new Error('RedisKeyvStore does not clear the shared Redis; let entries expire or flush it in Redis');
  }
}
