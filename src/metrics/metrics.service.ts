import { Injectable, type OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REDIS_BREAKER_STATES, REDIS_SKIP_REASONS, RedisConnection } from '../redis/redis.connection.js';
import { ShoutcloudClient } from '../shoutcloud/shoutcloud.client.js';
import { ShoutcloudService, type Provenance } from '../shoutcloud/shoutcloud.service.js';

const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;

const CACHE_OUTCOME_LABELS: Record<Provenance, { outcome: string; tier: string }> = {
  memory: { outcome: 'hit', tier: 'memory' },
  redis: { outcome: 'hit', tier: 'redis' },
  upstream: { outcome: 'miss', tier: 'none' },
  stale: { outcome: 'stale', tier: 'none' },
  fallback: { outcome: 'fallback', tier: 'none' },
};

/**
 * Every metric the service exports (README: What operators read), in one registry. Label values are bounded: route
 * templates (never raw paths), methods, status codes, and fixed outcome names.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to answer, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly httpInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests received and not yet answered.',
    registers: [this.registry],
  });

  readonly cacheOutcomes = new Counter({
    name: 'transform_cache_outcomes_total',
    help: 'Where answers came from: hit, miss (Shoutcloud), stale or fallback, by cache tier (memory, redis, none).',
    labelNames: ['outcome', 'tier'] as const,
    registers: [this.registry],
  });

  readonly upstreamTries = new Counter({
    name: 'shoutcloud_tries_total',
    help: 'HTTP tries sent to Shoutcloud, by outcome (success or the failure kind).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'shoutcloud_try_duration_seconds',
    help: 'Duration of one try against Shoutcloud, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly upstreamRetries = new Counter({
    name: 'shoutcloud_retries_total',
    help: 'Retries scheduled after a transient Shoutcloud failure.',
    registers: [this.registry],
  });

  readonly upstreamHedges = new Counter({
    name: 'shoutcloud_hedges_total',
    help: 'Second tries started because a try ran past the learned delay (SHOUTCLOUD_HEDGE).',
    registers: [this.registry],
  });

  readonly upstreamCallTexts = new Histogram({
    name: 'shoutcloud_call_texts',
    help: 'Texts per upstream call with coalescing on (SHOUTCLOUD_COALESCE); 1 for a text sent alone.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });

  readonly coalesceMismatches = new Counter({
    name: 'shoutcloud_coalesce_mismatches_total',
    help: 'Coalesced answers whose length did not match the question; their texts were sent again one per call.',
    registers: [this.registry],
  });

  readonly redisSkips = new Counter({
    name: 'redis_calls_skipped_total',
    help: 'Redis calls a request went on without, by reason: disconnected or breaker_open (not sent), timeout or error.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly client: ShoutcloudClient,
    private readonly shoutcloud: ShoutcloudService,
    private readonly redis: RedisConnection,
  ) {
    const { client: breakerSource, redis: redisSource } = this;
    new Gauge({
      name: 'shoutcloud_breaker_state',
      help: 'Circuit breaker around Shoutcloud: 1 for the current state (closed, half-open, open), 0 otherwise.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        for (const state of BREAKER_STATES) this.set({ state }, breakerSource.breakerState === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'redis_connected',
      help: 'Whether the shared Redis tier is connected (1) or down (0); no sample when Redis is not configured.',
      // Labelled so that, with no Redis configured, the family has no sample at all instead of
      // prom-client's default 0, which would read as "Redis down" and page someone.
      labelNames: ['tier'] as const,
      registers: [this.registry],
      collect() {
        if (redisSource.enabled) this.set({ tier: 'shared' }, redisSource.ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'redis_breaker_state',
      help: 'Circuit breaker around Redis: 1 for the current state (closed: requests use Redis; open, half-open: they skip it), 0 otherwise; no sample when Redis is not configured.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        if (!redisSource.enabled) return;
        for (const state of REDIS_BREAKER_STATES) this.set({ state }, redisSource.breakerState === state ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  onModuleInit(): void {
    this.client.onTry(({ outcome, durationMs }) => {
      this.upstreamTries.inc({ outcome });
      this.upstreamDuration.observe({ outcome }, durationMs / 1000);
    });
    this.client.onRetry(() => this.upstreamRetries.inc());
    this.client.onHedge(() => this.upstreamHedges.inc());
    this.shoutcloud.onCall(({ texts }) => this.upstreamCallTexts.observe(texts));
    this.shoutcloud.onMismatch(() => this.coalesceMismatches.inc());
    // Label handles resolved once: a skip can happen on every request while Redis is out.
    const skips = Object.fromEntries(REDIS_SKIP_REASONS.map((reason) => [reason, this.redisSkips.labels({ reason })]));
    this.redis.onSkip((reason) => skips[reason].inc());
    // Each provenance's counter child is looked up once, not hashed on every answer.
    const outcomes = Object.fromEntries(
      Object.entries(CACHE_OUTCOME_LABELS).map(([provenance, labels]) => [provenance, this.cacheOutcomes.labels(labels)]),
    ) as Record<Provenance, { inc(): void }>;
    this.shoutcloud.onAnswer(({ provenance }) => outcomes[provenance].inc());
  }
}
