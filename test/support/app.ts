import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { MetricsServer as MetricsServerType } from '../../src/metrics/metrics.server.js';
import { startShoutcloudServer, type ShoutcloudServer } from '../../src/shoutcloud-server/shoutcloud-server.js';

// Nest's packages are ES modules that CommonJS dependencies (@nestjs/throttler) require(): jest
// refuses a require() of an ES module still being loaded, so they are loaded in full first.
await import('@nestjs/common');
await import('@nestjs/core');
// The e2e project maps ../src to the build in dist/, which the Swagger CLI plugin has annotated.
const { createApp } = await import('../../src/app.setup.js');
const { MetricsServer } = await import('../../src/metrics/metrics.server.js');

/** The production app, built in this process by `createApp` and listening on a loopback port. */
export interface TestApp {
  readonly url: string;
  readonly port: number;
  /** The operators' port: `/metrics`, and `/health` with every detail. */
  readonly metricsUrl: string;
  readonly app: NestFastifyApplication;
  /** Everything the app logged so far (it goes here, not to the test output). */
  output(): string;
  /** The JSON log lines the app wrote so far. */
  logLines(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Creates the app with `env` as its whole environment (nothing is read from `process.env`;
 * `LOG_LEVEL` defaults to info as in production) and listens on a free port of 127.0.0.1, its
 * metrics on another. Each scrape renders the metrics afresh (`METRICS_CACHE_MS=0`), so a test
 * reads what it just did. No shedding on event-loop delay (`MAX_EVENT_LOOP_DELAY_MS=0`): the app
 * shares its event loop with the test and with the other apps of the worker, so that delay says
 * how busy the worker is, not the app; a test of the shedding sets it.
 */
export async function startTestApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  const written: string[] = [];
  const app = await createApp(
    { LOG_LEVEL: 'info', HOST: '127.0.0.1', METRICS_PORT: '0', METRICS_CACHE_MS: '0', MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    { logDestination: { write: (line: string) => void written.push(line) } },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const output = () => written.join('');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    metricsUrl: `http://127.0.0.1:${app.get<MetricsServerType>(MetricsServer).port}`,
    app,
    output,
    logLines: () =>
      output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    close: () => app.close(),
  };
}

/**
 * The app in front of a bundled Shoutcloud-compatible server of its own, both started before the
 * file's (or describe block's) tests and closed after them. Read `app` and `upstream` inside
 * tests: they are set once `beforeAll` has run.
 */
export function testAppWithUpstream(env: Record<string, string | undefined> = {}): { readonly app: TestApp; readonly upstream: ShoutcloudServer } {
  const running = {} as { app: TestApp; upstream: ShoutcloudServer };
  beforeAll(async () => {
    running.upstream = await startShoutcloudServer();
    running.app = await startTestApp({ SHOUTCLOUD_URL: running.upstream.url, ...env });
  });
  afterAll(async () => {
    await running.app?.close();
    await running.upstream?.close();
  });
  return running;
}
