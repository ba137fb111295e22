import type { FastifyInstance } from 'fastify';
import type { MetricsService } from './metrics.service.js';

/** Counts and times every request by route template (bounded), method and status. */
export function installHttpMetrics(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onRequest', (_request, _reply, done) => {
    metrics.httpInFlight.inc();
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpInFlight.dec();
    const labels = { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: reply.statusCode };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}
