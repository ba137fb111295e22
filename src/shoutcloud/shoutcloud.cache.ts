import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Span } from '@opentelemetry/api';
import { createHash } from 'node:crypto';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { RedisConnection } from '../redis/redis.connection.js';
import { cacheTierAttributes, SpanName, withSpan } from '../tracing/tracing.js';
import { shoutcloudConfig } from './shoutcloud.config.js';

/** What both tiers keep for one shouted text: Shoutcloud's answer and until when it is fresh. */
export interface CachedShout {
  output: string;
  /** Epoch ms; after it the entry is stale and only served when Shoutcloud gives no answer. */
  freshUntil: number;
}

// Built once: the memory tier's span is opened on every request (a plain call with tracing off).
const MEMORY_TIER = cacheTierAttributes('memory');
const REDIS_TIER = cacheTierAttributes('redis');

function markHit<T>(span: Span, entry: T | undefined): T | undefined {
  span.setAttribute('cache.hit', entry !== undefined);
  return entry;
}

/** True while an entry may be served without asking Shoutcloud. */
export const isFresh = (entry: CachedShout) => entry.freshUntil > Date.now();

// Keyv keeps `{ value, expires }` per entry; JavaScript strings cost two bytes a code unit.
const ENTRY_OVERHEAD_BYTES = 96;
const entryBytes = (entry: { value?: CachedShout } | undefined, key: string) =>
  ENTRY_OVERHEAD_BYTES + 2 * (key.length + (entry?.value?.output.length ?? 0));

/** What Keyv keeps in its store for one entry (values stay objects: no serialisation). */
interface StoredEntry {
  value?: CachedShout;
  /** Epoch ms after which Keyv treats the entry as absent. */
  expires?: number;
}

/** Each memory tier's LRU, for {@link ShoutcloudCache.fromMemory}'s synchronous read. */
const lruOf = new WeakMap<Keyv<CachedShout>, LRUCache<string, StoredEntry>>();

/** The in-process tier, cache-manager's store: an LRU bounded both in entries and in bytes. */
export function createMemoryTier(config: ConfigType<typeof shoutcloudConfig>): Keyv<CachedShout> {
  const lru = new LRUCache<string, StoredEntry>({
    max: config.cacheMaxEntries,
    maxSize: config.cacheMaxBytes,
    sizeCalculation: entryBytes,
  });
  // Keyv calls `set(key, value, ttlMs)`; lru-cache takes options there, and Keyv already keeps
  // the expiry inside each entry. So Keyv gets the Map-shaped subset it needs.
  const store = {
    get: (key: string) => lru.get(key),
    set: (key: string, value: StoredEntry) => lru.set(key, value),
    delete: (key: string) => lru.delete(key),
    clear: () => lru.clear(),
    has: (key: string) => lru.has(key),
  };
  const tier = new Keyv<CachedShout>({ store, useKeyPrefix: false });
  // Values stay objects in process; serialising them would only cost time.
  tier.serialize = undefined;
  tier.deserialize = undefined;
  lruOf.set(tier, lru);
  return tier;
}

// Keyed by the text shouted (after reversal). The version changes whenever what a key means
// changes, so replicas of two builds side by side never read each other's entries.
const REDIS_NAMESPACE = 'transform-api:shout:v3:';

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

// V8 hashes a string by its content only up to this many UTF-16 units; a longer string's hash is
// made from its length alone. A map keyed by such texts (10,000 code points of emoji reach 20,000
// units) puts every text of one length in one chain, and a lookup then compares the text with
// each of them: with a cache full of them every lookup grows with the cache.
const LONGEST_HASHED = 16_383;
// A lone surrogate: no well-formed text (all the API accepts) starts with one.
const DIGEST_MARK = '\ud800';

/**
 * The key of a text in the in-process tier and among flights: the text itself, or a digest of it
 * when it is too long for V8 to hash. The digest is the Redis key's, computed once.
 */
export const memoryKey = (text: string): string => (text.length <= LONGEST_HASHED ? text : DIGEST_MARK + digest(text));

// Hashed so keys stay short and the user's text is not readable in Redis.
const redisKey = (text: string, key: string) => REDIS_NAMESPACE + (key === text ? digest(text) : key.slice(DIGEST_MARK.length));

/**
 * Shoutcloud's answers, keyed by the text shouted, in two tiers: the in-process LRU through
 * cache-manager, then Redis (when configured) shared by every replica. Entries outlive their
 * freshness by `CACHE_STALE_SECONDS`, to be served when Shoutcloud fails.
 *
 * The Redis tier is not a cache-manager store: its calls go through {@link RedisConnection.run},
 * the one time budget and failure policy for Redis, and it is read on its own, after the
 * in-process tier and once per text in flight, so an answer can say which tier it came from.
 * Cache failures are never request failures.
 *
 * The in-process tier is written through cache-manager, but read straight from its LRU
 * ({@link ShoutcloudCache.fromMemory}): a cache hit is the service's commonest answer, and
 * cache-manager's `get` (through Keyv's hooks, stats and promise chain) would cost a hit more than
 * the lookup itself for a value already in memory, and make every hit asynchronous.
 */
@Injectable()
export class ShoutcloudCache {
  private readonly keepMs: number;
  private readonly lru: LRUCache<string, StoredEntry>;

  constructor(
    @Inject(CACHE_MANAGER) private readonly memory: Cache,
    @Inject(shoutcloudConfig.KEY) private readonly config: ConfigType<typeof shoutcloudConfig>,
    private readonly redis: RedisConnection,
  ) {
    this.keepMs = config.cacheTtlMs + config.cacheStaleMs;
    const tier = memory.stores.find((store) => lruOf.has(store as Keyv<CachedShout>));
    if (!tier) throw new Error('ShoutcloudCache needs the cache-manager store made by createMemoryTier');
    this.lru = lruOf.get(tier as Keyv<CachedShout>)!;
  }

  /**
   * The in-process tier's entry for a text, synchronously; undefined once Keyv's expiry is past.
   * @param key the text's {@link memoryKey}, when the caller has it already.
   */
  fromMemory(text: string, key = memoryKey(text)): CachedShout | undefined {
    return withSpan(SpanName.CacheTier, MEMORY_TIER, (span) => markHit(span, this.readMemory(key)));
  }

  private readMemory(key: string): CachedShout | undefined {
    const stored = this.lru.get(key);
    if (stored === undefined) return undefined;
    if (typeof stored.expires === 'number' && Date.now() > stored.expires) {
      this.lru.delete(key);
      return undefined;
    }
    return stored.value;
  }

  /** Looks in Redis; a hit fills the in-process tier. Undefined when absent or Redis is not usable. */
  async fromRedis(text: string, key = memoryKey(text)): Promise<CachedShout | undefined> {
    const entry = await withSpan(SpanName.CacheTier, REDIS_TIER, async (span) =>
      markHit(
        span,
        await this.redis.run(async (client) => {
          const stored = await client.get(redisKey(text, key));
          return stored === null ? undefined : (JSON.parse(stored) as CachedShout);
        }, 'GET'),
      ),
    );
    const remainingMs = entry ? entry.freshUntil + this.config.cacheStaleMs - Date.now() : 0;
    if (entry && remainingMs > 0) await this.memory.set(key, entry, remainingMs);
    return entry;
  }

  /** Keeps a fresh answer from Shoutcloud in both tiers. */
  async remember(text: string, output: string, key = memoryKey(text)): Promise<void> {
    const entry: CachedShout = { output, freshUntil: Date.now() + this.config.cacheTtlMs };
    await Promise.all([
      this.memory.set(key, entry, this.keepMs),
      this.redis.run(
        (client) => client.set(redisKey(text, key), JSON.stringify(entry), { expiration: { type: 'PX', value: this.keepMs } }),
        'SET',
      ),
    ]);
  }
}
