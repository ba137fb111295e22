import { jest } from '@jest/globals';
import type { ConfigType } from '@nestjs/config';
import { createCache } from 'cache-manager';
import type { RedisConnection } from '../redis/redis.connection.js';
import { createHash } from 'node:crypto';
import { Keyv } from 'keyv';
import type { appConfig } from '../config/app.config.js';
import { RedisKeyvStore } from '../redis/redis.keyv-store.js';
import { SharedTierWriter, type SharedWriteOutcome } from './shoutcloud.cache-writer.js';
import { memoryKey, SHARED_NAMESPACE, ShoutcloudCache, ShoutKey } from './shoutcloud.cache.js';
import type { shoutcloudConfig } from './shoutcloud.config.js';

const config = {
  cacheTtlMs: 60_000,
  cacheStaleMs: 600_000,
  cacheMaxBytes: 1024 * 1024,
  cacheMaxEntries: 1000,
  cacheWritesMaxInFlight: 10,
} as ConfigType<typeof shoutcloudConfig>;

/** A RedisConnection whose `run` reaches a map-backed client, or skips every command when `down`. */
function fakeRedis() {
  const store = new Map<string, { value: string; px?: number }>();
  const client = {
    get: async (key: string) => store.get(key)?.value ?? null,
    set: async (key: string, value: string, options: { expiration: { value: number } }) => {
      store.set(key, { value, px: options.expiration.value });
      return 'OK';
    },
  };
  const redis = { enabled: true, down: false, run: jest.fn(async (command: (c: typeof client) => Promise<unknown>) => (redis.down ? undefined : command(client))) };
  return { store, redis };
}

function cacheWith(overrides: Partial<typeof config> = {}) {
  const { store, redis } = fakeRedis();
  const connection = redis as unknown as RedisConnection;
  const shared = createCache({ stores: [new Keyv({ store: new RedisKeyvStore(connection), namespace: SHARED_NAMESPACE })] });
  const settings = { ...config, ...overrides };
  const writer = new SharedTierWriter(shared, settings, { shutdownGraceMs: 1000 } as ConfigType<typeof appConfig>);
  const writes: SharedWriteOutcome[] = [];
  writer.onWrite((outcome) => writes.push(outcome));
  const cache = new ShoutcloudCache(shared, settings, connection, writer);
  return { cache, store, redis, writer, writes };
}

describe('ShoutcloudCache', () => {
  it('keeps an answer fresh in memory at once and in Redis in the background, the key hashed and versioned, kept for the stale window too', async () => {
    const { cache, store, writer, writes } = cacheWith();
    cache.remember(new ShoutKey('OLLEH'), 'HELLO');
    expect(cache.fromMemory('OLLEH')).toMatchObject({ output: 'HELLO', state: 'fresh' });
    await writer.settled();
    expect(writes).toEqual(['written']);
    const [[key, { value, px }]] = [...store];
    expect(key).toMatch(/^transform-api:shout:v4:[A-Za-z0-9_-]{43}$/);
    expect(value).not.toContain('OLLEH');
    // The stored shape other replicas of this version read.
    expect(Object.keys(JSON.parse(value).value)).toEqual(['output', 'freshUntil']);
    expect(px).toBe(config.cacheTtlMs + config.cacheStaleMs);
  });

  it('tells an entry past its TTL as stale, and keeps it for the stale window', () => {
    const { cache } = cacheWith({ cacheTtlMs: 0 });
    cache.remember(new ShoutKey('old'), 'OLD');
    expect(cache.fromMemory('old')).toMatchObject({ output: 'OLD', state: 'stale' });
  });

  it('a Redis hit fills the in-process tier', async () => {
    const replicaA = cacheWith();
    replicaA.cache.remember(new ShoutKey('text'), 'TEXT');
    await replicaA.writer.settled();
    const replicaB = cacheWith();
    for (const [key, entry] of replicaA.store) replicaB.store.set(key, entry);
    expect(replicaB.cache.fromMemory('text')).toBeUndefined();
    expect(await replicaB.cache.fromRedis(new ShoutKey('text'))).toMatchObject({ output: 'TEXT', state: 'fresh' });
    expect(replicaB.cache.fromMemory('text')?.output).toBe('TEXT');
  });

  it('keeps a text too long for V8 to hash under its digest, the same digest as its Redis key', async () => {
    // 16,384 UTF-16 units each, one length: V8 would give every one the same hash.
    const texts = ['a', 'b', 'c'].map((last) => '😀'.repeat(8_191) + 'x' + last);
    const { cache, store, writer } = cacheWith();
    for (const text of texts) cache.remember(new ShoutKey(text), text.toUpperCase());
    await writer.settled();
    for (const text of texts) expect(cache.fromMemory(memoryKey(text))?.output).toBe(text.toUpperCase());
    const digest = createHash('sha256').update(texts[0]).digest('base64url');
    expect(memoryKey(texts[0])).toBe(`\ud800${digest}`);
    expect(new ShoutKey(texts[0]).shared).toBe(digest);
    expect(store.has(`transform-api:shout:v4:${digest}`)).toBe(true);
    expect(memoryKey('😀'.repeat(8_191) + 'x')).toBe('😀'.repeat(8_191) + 'x');
    const replica = cacheWith();
    for (const [key, entry] of store) replica.store.set(key, entry);
    expect((await replica.cache.fromRedis(new ShoutKey(texts[1])))?.output).toBe(texts[1].toUpperCase());
    expect(replica.cache.fromMemory(memoryKey(texts[1]))?.output).toBe(texts[1].toUpperCase());
  });

  it('does not copy into memory an entry past its stale window, and tells it as stale', async () => {
    const writer = cacheWith();
    writer.cache.remember(new ShoutKey('gone'), 'GONE');
    await writer.writer.settled();
    const [key] = writer.store.keys();
    const reader = cacheWith();
    const ancient = { output: 'GONE', freshUntil: Date.now() - config.cacheStaleMs - 1 };
    // Redis still holds it (another replica's clock, say), but by its own freshness it is past keeping.
    reader.store.set(key, { value: JSON.stringify({ value: ancient, expires: Date.now() + 60_000 }) });
    expect(await reader.cache.fromRedis(new ShoutKey('gone'))).toMatchObject({ output: 'GONE', state: 'stale' });
    expect(reader.cache.fromMemory('gone')).toBeUndefined();
  });

  it('goes on without Redis when its commands are skipped, and counts the write as failed', async () => {
    const { cache, redis, writer, writes } = cacheWith();
    redis.down = true;
    cache.remember(new ShoutKey('x'), 'X');
    expect(cache.fromMemory('x')?.output).toBe('X');
    expect(await cache.fromRedis(new ShoutKey('y'))).toBeUndefined();
    await writer.settled();
    expect(writes).toEqual(['failed']);
  });

  it('bounds the in-process tier in bytes', () => {
    // Each entry of 1,000-character key and answer costs about 4 kB: 10 kB hold two.
    const { cache } = cacheWith({ cacheMaxBytes: 10_000 });
    const texts = ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(1000));
    for (const text of texts) cache.remember(new ShoutKey(text), text.toUpperCase());
    const kept = texts.map((text) => cache.fromMemory(text));
    expect(kept.map((entry) => entry !== undefined)).toEqual([false, false, true, true]);
  });
});
