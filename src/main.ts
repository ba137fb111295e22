import { Logger } from '@nestjs/common';
import { environment, EnvironmentError } from './config/environment.js';

try {
  environment();
} catch (error) {
  if (!(error instanceof EnvironmentError)) throw error;
  // Before any logger exists: one plain line per bad variable, for the operator's terminal.
  process.stderr.write(`transform-api: invalid configuration, not starting\n${error.problems.map((p) => `  ${p}\n`).join('')}`);
  process.exit(1);
}

// The SDK registers before the application loads, and only when tracing is on.
const tracing = environment().OTEL_EXPORTER_OTLP_ENDPOINT ? await import('./tracing/tracing.setup.js') : undefined;
const { createApp } = await import('./app.setup.js');
const app = await createApp();
tracing?.instrumentApp(app);
const { PORT, HOST, SHOUTCLOUD_URL } = environment();
await app.listen({ port: PORT, host: HOST });
new Logger('Main').log(`transform-api listening on ${HOST}:${PORT}, Shoutcloud at ${SHOUTCLOUD_URL}`);
