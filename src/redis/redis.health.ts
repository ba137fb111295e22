import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnection } from './redis.connection.js';

/**
 * Reports Redis as information only: every replica shares it, so failing readiness on it would
 * take them all out of the Service at once. The key is always `up`; `via` says how Redis is
 * reached (`url`, `sentinel` or `cluster`), `primary` the address in use (through Sentinel: the
 * primary they last named, with `sentinelMaster`, the `failovers` seen and any `silentSentinels`;
 * for a cluster `null`, with its primaries as `nodes`, whether `slotsCovered` and `failovers`),
 * `connected` whether the client holds a connection to it (and while it does not, `error` why;
 * `configurationError` what to fix when Redis refuses the configuration),
 * `breaker` whether requests use it (`closed`) or skip it because it stopped answering (`open`,
 * `half-open` while the background probe runs).
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly redis: RedisConnection,
  ) {}

  check(key = 'redis') {
    const indicator = this.health.check(key);
    if (!this.redis.enabled) return indicator.up({ configured: false });
    return indicator.up({
      configured: true,
      via: this.redis.via,
      primary: this.redis.primary ?? null,
      ...(this.redis.via !== 'url' && { failovers: this.redis.failovers }),
      ...this.redis.details,
      connected: this.redis.ready,
      ...(this.redis.problem && { error: this.redis.problem }),
      ...(this.redis.configurationError && { configurationError: this.redis.configurationError }),
      breaker: this.redis.breakerState,
      ...(this.redis.serverVersion && { version: this.redis.serverVersion }),
    });
  }
}
