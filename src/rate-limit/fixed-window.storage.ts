import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface.js';
import { LRUCache } from 'lru-cache';

// Clients counted at once, and the memory their windows may take; past either, the least recently
// seen client starts a new window. Keys are short (a rate-limit name and `clientAddress`'s key,
// at most 48 characters), so the byte bound only matters if that ever stops being true.
const MAX_CLIENTS = 100_000;
const MAX_BYTES = 32 * 1024 * 1024;
const WINDOW_BYTES = 64;

interface Window {
  hits: number;
  endsAt: number;
}

/**
 * This process's own rate-limit counters, with the same fixed-window rule as the Redis ones (a
 * window starts at a client's first request and lasts the TTL), so falling back from Redis does
 * not change what a limit means. Not Nest's in-memory storage: that keeps one timestamp per hit
 * and scans them all on every request, which made hits far slower whenever Redis was out and this
 * storage counted (test/redis-hung.e2e-spec.ts, one client IP); this is one counter per client.
 */
export class FixedWindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new LRUCache<string, Window>({
    max: MAX_CLIENTS,
    maxSize: MAX_BYTES,
    sizeCalculation: (_window, key) => WINDOW_BYTES + 2 * key.length,
  });

  async increment(key: string, ttlMs: number, limit: number): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { hits: 0, endsAt: now + ttlMs };
      this.windows.set(key, window, { ttl: ttlMs });
    }
    window.hits++;
    const timeToExpire = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    const isBlocked = window.hits > limit;
    return { totalHits: window.hits, timeToExpire, isBlocked, timeToBlockExpire: isBlocked ? timeToExpire : 0 };
  }
}
