import type { FastifyInstance } from 'fastify';
import type { MetricsService } from './metrics.service.js';

interface Series {
  readonly count: { inc(): void };
  readonly duration: { observe(seconds: number): void };
}

/**
 * Counts and times every request by route template (bounded), method and status. Each
 * combination's prom-client children are looked up once and kept: `inc(labels)` would check and
 * hash the label object on every request.
 */
export function installHttpMetrics(fastify: FastifyInstance, metrics: MetricsService): void {
  const series = new Map<string, Series>();
  const seriesOf = (route: string, method: string, status: number): Series => {
    const key = `${route} ${method} ${status}`;
    let found = series.get(key);
    if (found === undefined) {
      const labels = { route, method, status };
      found = { count: metrics.httpRequests.labels(labels), duration: metrics.httpDuration.labels(labels) };
      series.set(key, found);
    }
    return found;
  };
  fastify.addHook('onRequest', (_request, _reply, done) => {
    metrics.httpInFlight.inc();
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpInFlight.dec();
    const { count, duration } = seriesOf(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode);
    count.inc();
    duration.observe(reply.elapsedTime / 1000);
    done();
  });
}
