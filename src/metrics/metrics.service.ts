import { Injectable, type OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REDIS_SKIP_REASONS, RedisConnection } from '../redis/redis.connection.js';
import { BREAKER_STATES } from '../resilience/breaker-state.js';
import { SHARED_WRITE_OUTCOMES, SharedTierWriter } from '../shoutcloud/shoutcloud.cache-writer.js';
import { ShoutcloudClient } from '../shoutcloud/shoutcloud.client.js';
import { ShoutcloudService, type Provenance } from '../shoutcloud/shoutcloud.service.js';

/** One route template, method and status: answers since the last scrape, and its duration histogram. */
export interface HttpSeries {
  readonly labels: { route: string; method: string; status: number };
  answered: number;
  readonly duration: { observe(seconds: number): void };
}

const CACHE_OUTCOME_LABELS: Record<Provenance, { outcome: string; tier: string }> = {
  memory: { outcome: 'hit', tier: 'memory' },
  redis: { outcome: 'hit', tier: 'redis' },
  upstream: { outcome: 'miss', tier: 'none' },
  stale: { outcome: 'stale', tier: 'none' },
  fallback: { outcome: 'fallback', tier: 'none' },
};
const PROVENANCES = Object.keys(CACHE_OUTCOME_LABELS) as Provenance[];

/**
 * Every metric the service exports (docs/operations.md lists them), in one registry. Label values are bounded: route
 * templates (never raw paths), methods, status codes, and fixed outcome names.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  private readonly registry = new Registry();

  /** Each route, method and status answered so far, with what the request path counted for it. */
  private readonly httpSeries = new Map<string, Map<string, Map<number, HttpSeries>>>();
  /** Requests received and not yet answered; read by `http_requests_in_flight` at scrape time. */
  private inFlight = 0;
  /** Answers by provenance since the last scrape; added to `transform_cache_outcomes_total` then. */
  private readonly pendingOutcomes = Object.fromEntries(PROVENANCES.map((provenance) => [provenance, 0])) as Record<Provenance, number>;

  // The request path only adds to plain numbers, through the methods below; these metrics take
  // them up in `collect()`, which prom-client calls at each scrape, so they are private: an `inc()`
  // from outside would be lost or overwritten there. Counting through prom-client on every request (label checks,
  // a hash string built and looked up per call) is a large share of a cache hit's own work
  // (docs/performance.md).
  private readonly httpRequests: Counter<'route' | 'method' | 'status'> = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
    collect: () => {
      for (const series of this.allHttpSeries()) {
        if (series.answered === 0) continue;
        this.httpRequests.inc(series.labels, series.answered);
        series.answered = 0;
      }
    },
  });

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to answer, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly httpInFlight: Gauge = new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests received and not yet answered.',
    registers: [this.registry],
    collect: () => this.httpInFlight.set(this.inFlight),
  });

  private readonly cacheOutcomes: Counter<'outcome' | 'tier'> = new Counter({
    name: 'transform_cache_outcomes_total',
    help: 'Where answers came from: hit, miss (Shoutcloud), stale or fallback, by cache tier (memory, redis, none).',
    labelNames: ['outcome', 'tier'] as const,
    registers: [this.registry],
    collect: () => {
      for (const provenance of PROVENANCES) {
        const answers = this.pendingOutcomes[provenance];
        if (answers === 0) continue;
        this.cacheOutcomes.inc(CACHE_OUTCOME_LABELS[provenance], answers);
        this.pendingOutcomes[provenance] = 0;
      }
    },
  });

  private readonly upstreamTries = new Counter({
    name: 'shoutcloud_tries_total',
    help: 'HTTP tries sent to Shoutcloud, by outcome (success or the failure kind).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly upstreamDuration = new Histogram({
    name: 'shoutcloud_try_duration_seconds',
    help: 'Duration of one try against Shoutcloud, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly upstreamRetries = new Counter({
    name: 'shoutcloud_retries_total',
    help: 'Retries scheduled after a transient Shoutcloud failure.',
    registers: [this.registry],
  });

  private readonly upstreamHedges = new Counter({
    name: 'shoutcloud_hedges_total',
    help: 'Second tries started because a try ran past the learned delay (SHOUTCLOUD_HEDGE).',
    registers: [this.registry],
  });

  private readonly upstreamCallTexts = new Histogram({
    name: 'shoutcloud_call_texts',
    help: 'Texts per upstream call; 1 for a text sent alone.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });

  private readonly upstreamQueueWait = new Histogram({
    name: 'shoutcloud_queue_wait_seconds',
    help: 'Time a cache miss waited for an upstream slot before its call was sent (0 when a slot was free).',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly coalesceMismatches = new Counter({
    name: 'shoutcloud_coalesce_mismatches_total',
    help: 'Answers in which some text\'s part was not a case variant of that text: those texts were sent again alone; a lone text was a bad reply (502).',
    registers: [this.registry],
  });

  private readonly redisSkips = new Counter({
    name: 'redis_calls_skipped_total',
    help: 'Redis calls a request went on without, by reason: disconnected or breaker_open (not sent), timeout or error.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly redisFailovers = new Counter({
    name: 'redis_failovers_total',
    help: 'Primary changes seen through Redis Sentinel (REDIS_SENTINELS): the Sentinels named another primary than the one in use.',
    registers: [this.registry],
  });

  private readonly sharedWrites = new Counter({
    name: 'redis_cache_writes_total',
    help: 'Answers written to the shared tier in the background, by outcome: written, failed (Redis skipped, failed or out of time), dropped (too many writes in flight).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly client: ShoutcloudClient,
    private readonly shoutcloud: ShoutcloudService,
    private readonly redis: RedisConnection,
    private readonly writer: SharedTierWriter,
  ) {
    const { client: breakerSource, redis: redisSource, shoutcloud: queueSource } = this;
    new Gauge({
      name: 'shoutcloud_queue_texts',
      help: 'Cache misses waiting for an upstream slot (SHOUTCLOUD_MAX_CALLS_IN_FLIGHT).',
      registers: [this.registry],
      collect() {
        this.set(queueSource.upstreamQueue.texts);
      },
    });
    new Gauge({
      name: 'shoutcloud_calls_in_flight',
      help: 'Upstream calls in flight (at most SHOUTCLOUD_MAX_CALLS_IN_FLIGHT with SHOUTCLOUD_COALESCE on).',
      registers: [this.registry],
      collect() {
        this.set(queueSource.upstreamQueue.calls);
      },
    });
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
        for (const state of BREAKER_STATES) this.set({ state }, redisSource.breakerState === state ? 1 : 0);
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
    this.shoutcloud.onCall(({ texts, waitedMs }) => {
      this.upstreamCallTexts.observe(texts);
      for (const ms of waitedMs) this.upstreamQueueWait.observe(ms / 1000);
    });
    this.shoutcloud.onMismatch(() => this.coalesceMismatches.inc());
    // Label handles resolved once: a skip can happen on every request while Redis is out.
    const skips = Object.fromEntries(REDIS_SKIP_REASONS.map((reason) => [reason, this.redisSkips.labels({ reason })]));
    this.redis.onSkip((reason) => skips[reason].inc());
    this.redis.onFailover(() => this.redisFailovers.inc());
    this.shoutcloud.onAnswer(({ provenance }) => this.pendingOutcomes[provenance]++);
    const writes = Object.fromEntries(SHARED_WRITE_OUTCOMES.map((outcome) => [outcome, this.sharedWrites.labels({ outcome })]));
    this.writer.onWrite((outcome) => writes[outcome].inc());
  }

  /** A request has arrived; {@link requestLeft} once its response has closed, whatever the outcome. */
  requestArrived(): void {
    this.inFlight++;
  }

  requestLeft(): void {
    this.inFlight--;
  }

  /**
   * The series of one route template, method and status, made on first use. Looked up by plain
   * keys (no label string built per request); the duration child is prom-client's, bound once.
   */
  httpSeriesFor(route: string, method: string, status: number): HttpSeries {
    let byMethod = this.httpSeries.get(route);
    if (byMethod === undefined) this.httpSeries.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (series === undefined) {
      const labels = { route, method, status };
      series = { labels, answered: 0, duration: this.httpDuration.labels(labels) };
      byStatus.set(status, series);
    }
    return series;
  }

  /** One answer given without a timed request: what Node and Fastify answer before any route. */
  countAnswer(route: string, method: string, status: number): void {
    this.httpSeriesFor(route, method, status).answered++;
  }

  /** Every metric in Prometheus's text format, as a scrape gets it. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /** The `Content-Type` of {@link exposition}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  private *allHttpSeries(): Iterable<HttpSeries> {
    for (const byMethod of this.httpSeries.values()) for (const byStatus of byMethod.values()) yield* byStatus.values();
  }
}
