import module from 'node:module';

// Start-up is mostly module loading (about 1,500 modules to compile). Node's compile cache keeps
// V8's bytecode on disk (NODE_COMPILE_CACHE, else the OS temp dir); when the directory is not
// writable it does nothing. Called before any other import, which is why everything else below
// is imported dynamically. Node 22.1+; absent on Node 20.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const { environment, EnvironmentError } = await import('./config/environment.js');
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
const [{ Logger }, { createApp }, { collectStartupGarbage }] = await Promise.all([
  import('@nestjs/common'),
  import('./app.setup.js'),
  import('./startup-gc.js'),
]);
const app = await createApp();
tracing?.instrumentApp(app);
// Routes are registered here (listen would do it otherwise), so their garbage is collected too.
await app.init();
collectStartupGarbage();
const { PORT, HOST, SHOUTCLOUD_URL } = environment();
await app.listen({ port: PORT, host: HOST });
new Logger('Main').log(`transform-api listening on ${HOST}:${PORT}, Shoutcloud at ${SHOUTCLOUD_URL}`);
