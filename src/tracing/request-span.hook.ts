import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Trace id of the request's span, for the request's log line; only set with tracing on. */
    traceId?: string;
    /** The request's span, with tracing on. */
    span?: Span | null;
  }
}

const tracer = trace.getTracer('transform-api');

/**
 * One SERVER span per request, named `METHOD /route/template` (OpenTelemetry HTTP semantic
 * conventions), child of the caller's `traceparent` if any, active while the handler runs.
 * Neither the path nor the query is recorded: the caller fills them with whatever it likes (a
 * misdirected client may put its text or a token there); the route template names the route.
 */
export function installRequestSpans(fastify: FastifyInstance): void {
  // Decorated, so every request object keeps one shape.
  fastify.decorateRequest('traceId', '');
  fastify.decorateRequest('span', null);

  fastify.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    // An unmatched request has no route: its span is named by the method alone.
    const span = tracer.startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: route === undefined ? { 'http.request.method': request.method } : { 'http.request.method': request.method, 'http.route': route },
      },
      propagation.extract(ROOT_CONTEXT, request.headers),
    );
    request.span = span;
    request.traceId = span.spanContext().traceId;
    done();
  });

  // The handler is called from the last preHandler's callback: running that callback inside the
  // span's context makes the span active for the handler and everything it awaits. (onRequest
  // would be too early: the body is read in between, in the socket's own async context.)
  fastify.addHook('preHandler', (request, _reply, done) => {
    if (!request.span) return done();
    context.with(trace.setSpan(context.active(), request.span), done);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const span = request.span;
    if (span?.isRecording()) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) {
        span.setAttribute('error.type', String(reply.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
    done();
  });

  fastify.addHook('onRequestAbort', (request, done) => {
    const span = request.span;
    if (span?.isRecording()) {
      span.setAttribute('error.type', 'client_aborted');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the connection' });
      span.end();
    }
    done();
  });
}
