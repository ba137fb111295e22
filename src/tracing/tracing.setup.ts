import { HttpService } from '@nestjs/axios';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { environment } from '../config/environment.js';
import { installRequestSpans } from './request-span.hook.js';
import { propagateTraceContext } from './upstream-propagation.js';

/*
 * Imported only when OTEL_EXPORTER_OTLP_ENDPOINT is set (main.ts, before the application
 * loads), so with tracing off no SDK code is ever loaded. Importing it registers the provider.
 *
 * The exporter and the batch processor read the standard OTEL_* variables themselves
 * (OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*): OTLP/HTTP
 * with JSON bodies. register() installs the AsyncLocalStorage context manager, which carries
 * the active span across awaits, and the W3C trace-context (and baggage) propagator.
 */
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': environment().OTEL_SERVICE_NAME }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();

/** Exports the spans still queued and stops the provider. */
async function shutdownTracing(): Promise<void> {
  await provider.shutdown();
}

/**
 * Instruments the application before it starts listening: the request spans, `traceparent` on
 * Shoutcloud calls, and the last export when the HTTP server closes (after in-flight requests
 * have been answered, as part of the SIGTERM shutdown).
 */
export function instrumentApp(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  installRequestSpans(fastify);
  propagateTraceContext(app.get(HttpService, { strict: false }).axiosRef);
  fastify.addHook('onClose', shutdownTracing);
}
