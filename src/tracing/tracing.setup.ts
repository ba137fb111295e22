import { HttpService } from '@nestjs/axios';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { installRequestSpans } from './request-span.hook.js';
import { recordSpans } from './tracing.js';
import { propagateTraceContext } from './upstream-propagation.js';

/*
 * Imported only when OTEL_EXPORTER_OTLP_ENDPOINT is set (main.ts, before the application
 * loads), so with tracing off no SDK code is ever loaded.
 *
 * The exporter and the batch processor read the standard OTEL_* variables themselves
 * (OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*): OTLP/HTTP
 * with JSON bodies. register() installs the AsyncLocalStorage context manager, which carries
 * the active span across awaits, and the W3C trace-context (and baggage) propagator.
 */

/** Registers the tracer provider for the whole process, spans named for `serviceName`. */
export function startTracing(serviceName: string): { instrumentApp(app: NestFastifyApplication): void } {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  recordSpans();
  return { instrumentApp: (app) => instrumentApp(app, () => provider.shutdown()) };
}

/**
 * Instruments the application before it starts listening: the request spans, `traceparent` on
 * Shoutcloud calls, and the last export when the HTTP server closes (after in-flight requests
 * have been answered, as part of the SIGTERM shutdown).
 */
function instrumentApp(app: NestFastifyApplication, shutdownTracing: () => Promise<void>): void {
  const fastify = app.getHttpAdapter().getInstance();
  installRequestSpans(fastify);
  propagateTraceContext(app.get(HttpService, { strict: false }).axiosRef);
  fastify.addHook('onClose', shutdownTracing);
}
