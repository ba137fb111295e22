import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Span } from '@opentelemetry/api';
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { RedisConnection } from '../redis/redis.connection.js';
import { cacheTierAttributes, SpanName, withSpan } from '../tracing/tracing.js';
import { SharedTierWriter } from './shoutcloud.cache-writer.js';
import { shoutcloudConfig } from './shoutcloud.config.js';

/** `fresh`: served without asking Shoutcloud; `stale`: served only when Shoutcloud gives no answer. */
export type EntryState = 'fresh' | 'stale';

/** Shoutcloud's answer for one text, as a cache tier holds it, and its state now. */
export interface CachedShout {
  readonly output: string;
  readonly state: EntryState;
}

/**
 * What both tiers store for one text: the answer and until when it is fresh (epoch ms). Its
 * JSON, `{"output", "freshUntil"}`, is the shared tier's stored shape; the state is worked out
 * here when the entry is read, so the clock stays inside the cache.
 */
class Entry implements CachedShout {
  constructor(
    readonly output: string,
    readonly freshUntil: number,
  ) {}

  get state(): EntryState {
    return this.freshUntil > Date.now() ? 'fresh' : 'stale';
  }
}

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
 * when it is too long for V8 to hash. The digest is the shared tier's too.
 */
export const memoryKey = (text: string): string => (text.length <= LONGEST_HASHED ? text : DIGEST_MARK + digest(text));

/**
 * A text's keys in both tiers, each computed at most once however often the miss path uses them.
 * The shared tier's is a digest, so keys stay short and do not spell the text (the stored answer,
 * its capitals, does: see the operations docs on what Redis holds).
 */
export class ShoutKey {
  private sharedKey: string | undefined;

  /** @param memory the text's {@link memoryKey}, already computed by the in-process lookup. */
  constructor(
    readonly text: string,
    readonly memory: string = memoryKey(text),
  ) {}

  get shared(): string {
    return (this.sharedKey ??= this.memory === this.text ? digest(this.text) : this.memory.slice(DIGEST_MARK.length));
  }
}

/**
 * The one owner of Shoutcloud's answers, keyed by the text shouted, in two tiers, and the one
 * judge of their freshness:
 * - in process, an `lru-cache` bounded in entries and bytes, read synchronously; an entry's TTL
 *   is its keep-until (fresh for `CACHE_TTL_SECONDS`, then stale for `CACHE_STALE_SECONDS`);
 * - shared by every replica, cache-manager over a Keyv store on Redis whose commands go through
 *   {@link RedisConnection.run} (one time budget and breaker), the same keep-until as its TTL.
 *   It is read on the miss path and written in the background ({@link SharedTierWriter}).
 *
 * The tiers are read one at a time so an answer can say which tier it came from. Nothing else
 * reads or writes them. Cache failures are never request failures.
 */
@Injectable()
export class ShoutcloudCache {
  private readonly keepMs: number;
  private readonly memory: LRUCache<string, Entry>;

  constructor(
    @Inject(CACHE_MANAGER) private readonly shared: Cache,
    @Inject(shoutcloudConfig.KEY) private readonly config: ConfigType<typeof shoutcloudConfig>,
    private readonly redis: RedisConnection,
    private readonly writer: SharedTierWriter,
  ) {
    this.keepMs = config.cacheTtlMs + config.cacheStaleMs;
    this.memory = new LRUCache<string, Entry>({
      max: config.cacheMaxEntries,
      maxSize: config.cacheMaxBytes,
      sizeCalculation: (entry, key) => ENTRY_OVERHEAD_BYTES + 2 * (key.length + entry.output.length),
      ttl: this.keepMs,
    });
  }

  /**
   * The in-process tier's entry for a text, fresh or stale, synchronously; undefined once it has
   * outlived its keep-until.
   * @param key the text's {@link memoryKey}.
   */
  fromMemory(key: string): CachedShout | undefined {
    return withSpan(SpanName.CacheTier, MEMORY_TIER, (span) => markHit(span, this.memory.get(key)));
  }

  /** The shared tier's entry; a hit fills the in-process tier. Undefined when absent or Redis is not usable. */
  async fromRedis(key: ShoutKey): Promise<CachedShout | undefined> {
    if (!this.redis.enabled) return undefined;
    const stored = await withSpan(SpanName.CacheTier, REDIS_TIER, async (span) =>
      markHit(span, (await this.shared.get<Entry>(key.shared)) ?? undefined),
    );
    if (!stored) return undefined;
    const entry = new Entry(stored.output, stored.freshUntil);
    const remainingMs = entry.freshUntil + this.config.cacheStaleMs - Date.now();
    if (remainingMs > 0) this.memory.set(key.memory, entry, { ttl: remainingMs });
    return entry;
  }

  /**
   * Keeps a fresh answer from Shoutcloud: in the in-process tier at once, and in the shared tier
   * in the background, so that the answer need not wait for Redis.
   */
  remember(key: ShoutKey, output: string): void {
    const entry = new Entry(output, Date.now() + this.config.cacheTtlMs);
    this.memory.set(key.memory, entry);
    if (this.redis.enabled) this.writer.write(key.shared, entry, this.keepMs);
  }
}
