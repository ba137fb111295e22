import module from 'node:module';
import type { Environment } from './config/environment.js';

// Start-up is mostly module loading (about 1,500 modules to compile). Node's compile cache keeps
// V8's bytecode on disk (NODE_COMPILE_CACHE, else the OS temp dir); when the directory is not
// writable it does nothing. Called before any other import, which is why everything else below
// is imported dynamically. Node 22.1+; absent on Node 20.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const { validateEnvironment, EnvironmentError } = await import('./config/environment.js');
let env: Environment;
try {
  env = validateEnvironment(process.env);
} catch (error) {
  if (!(error instanceof EnvironmentError)) throw error;
  // Before any logger exists: one plain line per bad variable, for the operator's terminal.
  process.stderr.write(`transform-api: invalid configuration, not starting\n${error.problems.map((p) => `  ${p}\n`).join('')}`);
  process.exit(1);
}

// The SDK registers before the application loads, and only when tracing is on.
const tracing = env.OTEL_EXPORTER_OTLP_ENDPOINT
  ? (await import('./tracing/tracing.setup.js')).startTracing(env.OTEL_SERVICE_NAME)
  : undefined;
const [{ Logger }, { createApp }, { collectStartupGarbage }] = await Promise.all([
  import('@nestjs/common'),
  import('./app.setup.js'),
  import('./startup-gc.js'),
]);
const app = await createApp(env);
tracing?.instrumentApp(app);
// useProcessExit: exit 0 once drained, instead of re-raising SIGTERM (which exits 143).
app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
// Routes are registered here (listen would do it otherwise), so their garbage is collected too.
await app.init();
collectStartupGarbage();
await app.listen({ port: env.PORT, host: env.HOST });
new Logger('Main').log(`transform-api listening on ${env.HOST}:${env.PORT}, Shoutcloud at ${env.SHOUTCLOUD_URL}`);
