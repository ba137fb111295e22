import { configNamespace } from '../config/config-namespace.js';

/** Upstream, resilience and cache settings of the Shoutcloud provider. */
export const shoutcloudConfig = configNamespace('shoutcloud', (env) => ({
  /** Base URL without a trailing slash; the client appends `/V1/SHOUT`. */
  url: env.SHOUTCLOUD_URL.replace(/\/+$/, ''),
  timeoutMs: env.SHOUTCLOUD_TIMEOUT_MS,
  retries: env.SHOUTCLOUD_RETRIES,
  retryBudgetPercent: env.SHOUTCLOUD_RETRY_BUDGET_PERCENT,
  breakerThreshold: env.SHOUTCLOUD_BREAKER_THRESHOLD,
  breakerHalfOpenMs: env.SHOUTCLOUD_BREAKER_HALF_OPEN_MS,
  fallback: env.SHOUTCLOUD_FALLBACK,
  /** At most `maxCallsInFlight` upstream calls; misses waiting for a slot go together. */
  coalesce: env.SHOUTCLOUD_COALESCE === 'on',
  coalesceMaxBytes: env.SHOUTCLOUD_COALESCE_MAX_BYTES,
  maxCallsInFlight: env.SHOUTCLOUD_MAX_CALLS_IN_FLIGHT,
  queueMaxBytes: env.SHOUTCLOUD_QUEUE_MAX_BYTES,
  /** A try running past the learned delay gets a second, concurrent try. */
  hedge: env.SHOUTCLOUD_HEDGE === 'on',
  hedgeMinMs: env.SHOUTCLOUD_HEDGE_MIN_MS,
  hedgeMaxMs: env.SHOUTCLOUD_HEDGE_MAX_MS,
  cacheTtlMs: env.CACHE_TTL_SECONDS * 1000,
  cacheStaleMs: env.CACHE_STALE_SECONDS * 1000,
  cacheMaxBytes: env.CACHE_MAX_BYTES,
  cacheMaxEntries: env.CACHE_MAX_ENTRIES,
  /** Background writes to the shared tier in flight; past it a write is dropped. */
  cacheWritesMaxInFlight: env.CACHE_WRITES_MAX_IN_FLIGHT,
}));
