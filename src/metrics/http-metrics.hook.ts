import type { FastifyInstance } from 'fastify';
import type { MetricsService } from './metrics.service.js';

/**
 * Counts and times every request by route template (bounded), method and status, and keeps the
 * in-flight gauge. The request path adds to plain numbers and observes one histogram child bound
 * once per series; the counters take the numbers up at scrape time (see {@link MetricsService}).
 */
export function installHttpMetrics(fastify: FastifyInstance, metrics: MetricsService): void {
  // A request leaves the gauge when its response closes: exactly once, whether it was answered
  // or its client left first. Neither `onResponse` (never runs when nothing could be written) nor
  // `onRequestAbort` (runs only while the body is still arriving: Node sets `req.aborted` only
  // then) covers a client that leaves while its answer is being worked out.
  const leave = () => metrics.requestLeft();
  fastify.addHook('onRequest', (_request, reply, done) => {
    metrics.requestArrived();
    reply.raw.on('close', leave);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const series = metrics.httpSeriesFor(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode);
    series.answered++;
    series.duration.observe(reply.elapsedTime / 1000);
    done();
  });
}
