import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { createHash } from 'node:crypto';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { RedisConnection } from '../redis/redis.connection.js';
import { shoutcloudConfig } from './shoutcloud.config.js';

/** What both tiers keep for one shouted text: Shoutcloud's answer and until when it is fresh. */
export interface CachedShout {
  output: string;
  /** Epoch ms; after it the entry is stale and only served when Shoutcloud gives no answer. */
  freshUntil: number;
}

/** True while an entry may be served without asking Shoutcloud. */
export const isFresh = (entry: CachedShout) => entry.freshUntil > Date.now();

// Keyv keeps `{ value, expires }` per entry; JavaScript strings cost two bytes a code unit.
const ENTRY_OVERHEAD_BYTES = 96;
const entryBytes = (entry: { value?: CachedShout } | undefined, key: string) =>
  ENTRY_OVERHEAD_BYTES + 2 * (key.length + (entry?.value?.output.length ?? 0));

/** The in-process tier, cache-manager's store: an LRU bounded both in entries and in bytes. */
export function createMemoryTier(config: ConfigType<typeof shoutcloudConfig>): Keyv<CachedShout> {
  const lru = new LRUCache<string, { value?: CachedShout }>({
    max: config.cacheMaxEntries,
    maxSize: config.cacheMaxBytes,
    sizeCalculation: entryBytes,
  });
  // Keyv calls `set(key, value, ttlMs)`; lru-cache takes options there, and Keyv already keeps
  // the expiry inside each entry. So Keyv gets the Map-shaped subset it needs.
  const store = {
    get: (key: string) => lru.get(key),
    set: (key: string, value: { value?: CachedShout }) => lru.set(key, value),
    delete: (key: string) => lru.delete(key),
    clear: () => lru.clear(),
    has: (key: string) => lru.has(key),
  };
  const tier = new Keyv<CachedShout>({ store, useKeyPrefix: false });
  // Values stay objects in process; serialising them would only cost time.
  tier.serialize = undefined;
  tier.deserialize = undefined;
  return tier;
}

// v3: keyed by the shouted text (v2 keyed by the caller's input, before reversal).
const REDIS_NAMESPACE = 'transform-api:shout:v3:';

// Hashed so keys stay short and the user's text is not readable in Redis.
const redisKey = (text: string) => REDIS_NAMESPACE + createHash('sha256').update(text).digest('base64url');

/**
 * Shoutcloud's answers, keyed by the text shouted, in two tiers: the in-process LRU through
 * cache-manager, then Redis (when configured) shared by every replica. Entries outlive their
 * freshness by `CACHE_STALE_SECONDS`, to be served when Shoutcloud fails.
 *
 * The Redis tier is not a cache-manager store: its calls go through {@link RedisConnection.run},
 * the one time budget and failure policy for Redis, and it is read on its own, after the
 * in-process tier and once per text in flight, so an answer can say which tier it came from.
 * Cache failures are never request failures.
 */
@Injectable()
export class ShoutcloudCache {
  private readonly keepMs: number;

  constructor(
    @Inject(CACHE_MANAGER) private readonly memory: Cache,
    @Inject(shoutcloudConfig.KEY) private readonly config: ConfigType<typeof shoutcloudConfig>,
    private readonly redis: RedisConnection,
  ) {
    this.keepMs = config.cacheTtlMs + config.cacheStaleMs;
  }

  fromMemory(text: string): Promise<CachedShout | undefined> {
    return this.memory.get<CachedShout>(text);
  }

  /** Looks in Redis; a hit fills the in-process tier. Undefined when absent or Redis is not usable. */
  async fromRedis(text: string): Promise<CachedShout | undefined> {
    const entry = await this.redis.run(async (client) => {
      const stored = await client.get(redisKey(text));
      return stored === null ? undefined : (JSON.parse(stored) as CachedShout);
    });
    const remainingMs = entry ? entry.freshUntil + this.config.cacheStaleMs - Date.now() : 0;
    if (entry && remainingMs > 0) await this.memory.set(text, entry, remainingMs);
    return entry;
  }

  /** Keeps a fresh answer from Shoutcloud in both tiers. */
  async remember(text: string, output: string): Promise<void> {
    const entry: CachedShout = { output, freshUntil: Date.now() + this.config.cacheTtlMs };
    await Promise.all([
      this.memory.set(text, entry, this.keepMs),
      this.redis.run((client) => client.set(redisKey(text), JSON.stringify(entry), { expiration: { type: 'PX', value: this.keepMs } })),
    ]);
  }
}
