import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Span } from '@opentelemetry/api';
import { createHash } from 'node:crypto';
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

/** True while an entry may be served without asking Shoutcloud. */
export const isFresh = (entry: CachedShout) => entry.freshUntil > Date.now();

/**
 * Keys of the shared tier: Keyv prefixes each with this namespace. The version changes whenever
 * the stored shape or the meaning of a key does, so replicas of two versions never misread each
 * other's entries during a rollout.
 */
export const SHARED_NAMESPACE = 'transform-api:shout:v4';

// Built once: the memory tier's span is opened on every request (a plain call with tracing off).
const MEMORY_TIER = cacheTierAttributes('memory');
const REDIS_TIER = cacheTierAttributes('redis');

function markHit<T>(span: Span, entry: T | undefined): T | undefined {
  span.setAttribute('cache.hit', entry !== undefined);
  return entry;
}

// lru-cache's bookkeeping per entry; JavaScript strings cost two bytes a code unit.
const ENTRY_OVERHEAD_BYTES = 96;

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

// V8 hashes a string by its content only up to this many UTF-16 units; a longer string's hash is
// made from its length alone, so a map keyed by such texts puts every text of one length in one
// chain and compares the text with each of them on lookup.
const LONGEST_HASHED = 16_383;
// A lone surrogate: no well-formed text (all the API accepts) starts with one.
const DIGEST_MARK = '\ud800';

/**
 * The key of a text in the in-process tier and among flights: the text itself, or a digest of it
 * when it is too long for V8 to hash. The digest is the shared tier's, computed once.
 */
export const memoryKey = (text: string): string => (text.length <= LONGEST_HASHED ? text : DIGEST_MARK + digest(text));

// Digested so keys stay short and the user's text is not readable in Redis.
const sharedKey = (text: string, key: string) => (key === text ? digest(text) : key.slice(DIGEST_MARK.length));

/**
 * The one owner of Shoutcloud's answers, keyed by the text shouted, in two tiers, each with one
 * expiry clock:
 * - in process, an `lru-cache` bounded in entries and bytes, read synchronously; an entry's TTL
 *   is its keep-until (fresh for `CACHE_TTL_SECONDS`, then stale for `CACHE_STALE_SECONDS`);
 * - shared by every replica, cache-manager over a Keyv store on Redis whose commands go through
 *   {@link RedisConnection.run} (one time budget and breaker), the same keep-until as its TTL.
 *
 * The tiers are read one at a time so an answer can say which tier it came from. Nothing else
 * reads or writes them. Cache failures are never request failures.
 */
@Injectable()
export class ShoutcloudCache {
  private readonly keepMs: number;
  private readonly memory: LRUCache<string, CachedShout>;

  constructor(
    @Inject(CACHE_MANAGER) private readonly shared: Cache,
    @Inject(shoutcloudConfig.KEY) private readonly config: ConfigType<typeof shoutcloudConfig>,
    private readonly redis: RedisConnection,
  ) {
    this.keepMs = config.cacheTtlMs + config.cacheStaleMs;
    this.memory = new LRUCache<string, CachedShout>({
      max: config.cacheMaxEntries,
      maxSize: config.cacheMaxBytes,
      sizeCalculation: (entry, key) => ENTRY_OVERHEAD_BYTES + 2 * (key.length + entry.output.length),
      ttl: this.keepMs,
    });
  }

  /**
   * The in-process tier's entry for a text, fresh or stale, synchronously; undefined once it has
   * outlived its keep-until.
   * @param key the text's {@link memoryKey}, when the caller has it already.
   */
  fromMemory(text: string, key = memoryKey(text)): CachedShout | undefined {
    return withSpan(SpanName.CacheTier, MEMORY_TIER, (span) => markHit(span, this.memory.get(key)));
  }

  /** The shared tier's entry; a hit fills the in-process tier. Undefined when absent or Redis is not usable. */
  async fromRedis(text: string, key = memoryKey(text)): Promise<CachedShout | undefined> {
    if (!this.redis.enabled) return undefined;
    const entry = await withSpan(SpanName.CacheTier, REDIS_TIER, async (span) =>
      markHit(span, (await this.shared.get<CachedShout>(sharedKey(text, key))) ?? undefined),
    );
    const remainingMs = entry ? entry.freshUntil + this.config.cacheStaleMs - Date.now() : 0;
    if (entry && remainingMs > 0) this.memory.set(key, entry, { ttl: remainingMs });
    return entry;
  }

  /** Keeps a fresh answer from Shoutcloud in both tiers. */
  async remember(text: string, output: string, key = memoryKey(text)): Promise<void> {
    const entry: CachedShout = { output, freshUntil: Date.now() + this.config.cacheTtlMs };
    this.memory.set(key, entry);
    if (this.redis.enabled) await this.shared.set(sharedKey(text, key), entry, this.keepMs);
  }
}
