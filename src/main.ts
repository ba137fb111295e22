import module from 'node:module';
import type { Environment } from './config/environment.js';
import { exitIfAddressInUse, requireNodeMajor } from './startup-checks.js';

// First, before anything that another Node could fail to load with a stack and no word of why.
requireNodeMajor('transform-api');

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
try {
  await app.listen({ port: env.PORT, host: env.HOST });
} catch (error) {
  exitIfAddressInUse('transform-api', error, { host: env.HOST, port: env.PORT, portVariable: 'PORT' });
  throw error;
}
// A browser cannot open the wildcard address: the docs' URL names the loopback name instead.
const docsHost = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST;
new Logger('Main').log(
  `transform-api listening on ${env.HOST}:${env.PORT}, API docs at http://${docsHost}:${env.PORT}/docs, Shoutcloud at ${env.SHOUTCLOUD_URL}`,
);
