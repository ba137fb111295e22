import { Injectable } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health.js';
import { ShoutcloudHealthIndicator } from '../shoutcloud/shoutcloud.health.js';

/** Who reads the answer: anyone who reaches the public port, or whoever reaches `METRICS_PORT`. */
export type ReadinessAudience = 'public' | 'internal';

/**
 * Redis's details the public port shows: how it is reached and whether it answers. Addresses
 * (the node in use, a cluster's nodes, silent Sentinels) and error texts (which name them) are no
 * one's business outside; the metrics port shows them.
 */
const PUBLIC_REDIS_DETAILS = ['status', 'configured', 'via', 'connected', 'breaker', 'failovers', 'slotsCovered'];

function publicDetails(result: HealthIndicatorResult<'redis'>): HealthIndicatorResult<'redis'> {
  const shown = Object.fromEntries(Object.entries(result.redis).filter(([detail]) => PUBLIC_REDIS_DETAILS.includes(detail)));
  return { redis: shown as HealthIndicatorResult<'redis'>['redis'] };
}

/**
 * Terminus's readiness answer: 200 while this process can serve, 503 (thrown, as Terminus does)
 * from the moment it starts shutting down; Shoutcloud and Redis shown for information.
 */
@Injectable()
export class Readiness {
  constructor(
    private readonly health: HealthCheckService,
    private readonly shoutcloud: ShoutcloudHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  check(audience: ReadinessAudience): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.shoutcloud.check('shoutcloud'),
      () => (audience === 'internal' ? this.redis.check('redis') : publicDetails(this.redis.check('redis'))),
    ]);
  }
}
