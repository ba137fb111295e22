import { EventEmitter } from 'cockatiel';
import type { RedisConnection } from '../redis/redis.connection.js';
import type { SharedTierWriter } from '../shoutcloud/shoutcloud.cache-writer.js';
import type { ShoutcloudClient } from '../shoutcloud/shoutcloud.client.js';
import type { CallEvent } from '../shoutcloud/shoutcloud.batcher.js';
import type { Shout, ShoutcloudService } from '../shoutcloud/shoutcloud.service.js';
import { MetricsService } from './metrics.service.js';

const events = () => new EventEmitter<never>().addListener;

/** The service with its sources stubbed; `answer` plays ShoutcloudService answering a caller. */
function metricsService() {
  const answers = new EventEmitter<Shout>();
  const calls = new EventEmitter<CallEvent>();
  const upstreamQueue = { texts: 0, calls: 0 };
  const client = { breakerState: 'closed', onTry: events(), onRetry: events(), onHedge: events() } as unknown as ShoutcloudClient;
  const shoutcloud = { onAnswer: answers.addListener, onCall: calls.addListener, onMismatch: events(), upstreamQueue } as unknown as ShoutcloudService;
  const redis = { enabled: false, onSkip: events(), onFailover: events() } as unknown as RedisConnection;
  const writer = { onWrite: events() } as unknown as SharedTierWriter;
  const metrics = new MetricsService(client, shoutcloud, redis, writer);
  metrics.onModuleInit();
  return {
    metrics,
    upstreamQueue,
    call: (event: CallEvent) => calls.emit(event),
    answer: (provenance: Shout['provenance']) => answers.emit({ output: 'X', provenance }),
  };
}

/** The samples of one family in the exposition text, as `labels value` lines. */
async function samples(metrics: MetricsService, name: string): Promise<string[]> {
  const text = await metrics.exposition();
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('MetricsService (counted on the request path, taken up at scrape time)', () => {
  it('exports the answers counted per series, each once, across scrapes', async () => {
    const { metrics } = metricsService();
    const ok = metrics.httpSeriesFor('/transform', 'POST', 200);
    expect(metrics.httpSeriesFor('/transform', 'POST', 200)).toBe(ok);
    ok.answered += 2;
    metrics.httpSeriesFor('/transform', 'POST', 400).answered++;
    expect(await samples(metrics, 'http_requests_total')).toEqual([
      'http_requests_total{route="/transform",method="POST",status="200"} 2',
      'http_requests_total{route="/transform",method="POST",status="400"} 1',
    ]);
    // A second scrape with nothing new adds nothing; new answers add to the total.
    expect(await samples(metrics, 'http_requests_total')).toContain('http_requests_total{route="/transform",method="POST",status="200"} 2');
    ok.answered++;
    expect(await samples(metrics, 'http_requests_total')).toContain('http_requests_total{route="/transform",method="POST",status="200"} 3');
  });

  it('observes durations on the series histogram', async () => {
    const { metrics } = metricsService();
    metrics.httpSeriesFor('/health', 'GET', 200).duration.observe(0.002);
    expect(await samples(metrics, 'http_request_duration_seconds_count')).toEqual([
      'http_request_duration_seconds_count{route="/health",method="GET",status="200"} 1',
    ]);
  });

  it('reads the in-flight gauge at scrape time', async () => {
    const { metrics } = metricsService();
    metrics.requestArrived();
    metrics.requestArrived();
    metrics.requestLeft();
    expect(await samples(metrics, 'http_requests_in_flight')).toEqual(['http_requests_in_flight 1']);
    metrics.requestLeft();
    expect(await samples(metrics, 'http_requests_in_flight')).toEqual(['http_requests_in_flight 0']);
  });

  it('reads the upstream queue at scrape time and observes the texts and waits of each call', async () => {
    const { metrics, upstreamQueue, call } = metricsService();
    Object.assign(upstreamQueue, { texts: 7, calls: 1 });
    call({ texts: 3, waitedMs: [0, 20, 40] });
    expect(await samples(metrics, 'shoutcloud_queue_texts')).toEqual(['shoutcloud_queue_texts 7']);
    expect(await samples(metrics, 'shoutcloud_calls_in_flight')).toEqual(['shoutcloud_calls_in_flight 1']);
    expect(await samples(metrics, 'shoutcloud_call_texts_sum')).toEqual(['shoutcloud_call_texts_sum 3']);
    expect(await samples(metrics, 'shoutcloud_queue_wait_seconds_count')).toEqual(['shoutcloud_queue_wait_seconds_count 3']);
    expect(await samples(metrics, 'shoutcloud_queue_wait_seconds_sum')).toEqual(['shoutcloud_queue_wait_seconds_sum 0.06']);
  });

  it('exports cache outcomes by provenance, each answer once', async () => {
    const { metrics, answer } = metricsService();
    answer('memory');
    answer('memory');
    answer('upstream');
    expect(await samples(metrics, 'transform_cache_outcomes_total')).toEqual([
      'transform_cache_outcomes_total{outcome="hit",tier="memory"} 2',
      'transform_cache_outcomes_total{outcome="miss",tier="none"} 1',
    ]);
    answer('stale');
    expect(await samples(metrics, 'transform_cache_outcomes_total')).toEqual([
      'transform_cache_outcomes_total{outcome="hit",tier="memory"} 2',
      'transform_cache_outcomes_total{outcome="miss",tier="none"} 1',
      'transform_cache_outcomes_total{outcome="stale",tier="none"} 1',
    ]);
  });
});
