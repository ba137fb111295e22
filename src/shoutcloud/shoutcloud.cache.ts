import KeyvRedis from '@keyv/redis';
import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { createHash } from 'node:crypto';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import type { RedisClientType } from '@keyv/redis';
import { RedisConnection } from '../redis/redis.connection.js';
import { shoutcloudConfig } from './shoutcloud.config.js';

/** What both tiers store for one input: Shoutcloud's answer and until when it is fresh. */
export interface CachedShout {
  output: string;
  /** Epoch ms; after it the entry is stale and only served when Shoutcloud fails. */
  freshUntil: number;
}

export type CacheTier = 'memory' | 'redis';

export interface CacheLookup {
  output: string;
  fresh: boolean;
  tier: CacheTier;
}

// Keyv keeps `{ value, expires }` per entry; JavaScript strings cost two bytes a code unit.
const ENTRY_OVERHEAD_BYTES = 96;
const entryBytes = (entry: { value?: CachedShout } | undefined, key: string) =>
  ENTRY_OVERHEAD_BYTES + 2 * (key.length + (entry?.value?.output.length ?? 0));

/** The in-process tier: an LRU bounded both in entries and in bytes. */
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

/** The shared tier: Redis, namespaced, with errors thrown so a failing call is noticed. */
export function createSharedTier(client: RedisClientType): Keyv<CachedShout> {
  const tier = new Keyv<CachedShout>({
    store: new KeyvRedis(client, { throwOnConnectError: false }),
    namespace: 'transform-api:shout:v2',
    throwOnErrors: true,
  });
  // Keyv re-emits store errors; the Redis connection already reports outages once.
  tier.on('error', () => undefined);
  // cache-manager disconnects its stores in onModuleDestroy, before the HTTP server drains;
  // RedisConnection closes the client afterwards instead, so in-flight requests keep the tier.
  tier.disconnect = async () => undefined;
  return tier;
}

/**
 * Shoutcloud's answers in two tiers, through cache-manager's stores: the in-process LRU first,
 * then Redis (when configured) shared by every replica. Reads go tier by tier, because a hit in
 * Redis must fill the LRU and a slow Redis must not hold a request up; writes go to both. Cache
 * failures are never request failures.
 */
@Injectable()
export class ShoutcloudCache {
  private readonly memory: Keyv<CachedShout>;
  private readonly shared: Keyv<CachedShout> | undefined;
  private readonly keepMs: number;

  constructor(
    @Inject(CACHE_MANAGER) cache: Cache,
    @Inject(shoutcloudConfig.KEY) private readonly config: ConfigType<typeof shoutcloudConfig>,
    private readonly redis: RedisConnection,
  ) {
    [this.memory, this.shared] = cache.stores as Keyv<CachedShout>[];
    // Entries live past their freshness for the stale window, to be served when Shoutcloud fails.
    this.keepMs = config.cacheTtlMs + config.cacheStaleMs;
  }

  async getFromMemory(text: string): Promise<CacheLookup | undefined> {
    const entry = await this.memory.get(text);
    return entry && { output: entry.output, fresh: entry.freshUntil > Date.now(), tier: 'memory' };
  }

  /** Looks in Redis; a hit fills the in-process tier. Undefined when absent, slow or down. */
  async getFromShared(text: string): Promise<CacheLookup | undefined> {
    const shared = this.shared;
    if (!shared) return undefined;
    const entry = await this.redis.run(() => shared.get(sharedKey(text)));
    if (!entry) return undefined;
    const remainingMs = entry.freshUntil + this.config.cacheStaleMs - Date.now();
    if (remainingMs > 0) await this.memory.set(text, entry, remainingMs);
    return { output: entry.output, fresh: entry.freshUntil > Date.now(), tier: 'redis' };
  }

  async set(text: string, output: string): Promise<void> {
    const entry: CachedShout = { output, freshUntil: Date.now() + this.config.cacheTtlMs };
    await this.memory.set(text, entry, this.keepMs);
    const shared = this.shared;
    if (shared) await this.redis.run(() => shared.set(sharedKey(text), entry, this.keepMs));
  }
}

// Hashed so keys stay short and the user's text is not readable in Redis. v2: keyed by the
// caller's input (v1 keyed by the reversed text).
function sharedKey(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
