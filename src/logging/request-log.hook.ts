import type { FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';

// Probes arrive every few seconds from every kubelet: keep them out
// of the info stream, still there at debug.
const QUIET_ROUTES = new Set(['/health', '/health/live']);

/**
 * One JSON line per answered request: id, method, route template, status, duration, cache
 * outcome and, with tracing on, the trace id. Never the body or the query string.
 */
export function installRequestLog(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const logger = PinoLogger.root;
    // At `warn` and quieter levels only failures are logged: skip the rest before any work.
    if (reply.statusCode < 500 && !logger.isLevelEnabled('info')) return done();
    const route = request.routeOptions.url ?? 'unmatched';
    const level = reply.statusCode >= 500 ? 'error' : QUIET_ROUTES.has(route) ? 'debug' : 'info';
    if (logger.isLevelEnabled(level)) {
      logger[level](
        {
          requestId: request.id,
          // Only with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT); pino leaves out undefined.
          traceId: request.traceId,
          method: request.method,
          route,
          status: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
          cache: reply.getHeader('x-cache'),
        },
        'request completed',
      );
    }
    done();
  });
}
