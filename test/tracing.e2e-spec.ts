import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startApp, type AppProcess } from './support/app-process.js';
import { postJson } from './support/http.js';

/** One span as OTLP/HTTP JSON carries it, attributes flattened. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ spans: Array<Omit<ExportedSpan, 'attributes' | 'service'> & { attributes?: OtlpAttribute[] }> }>;
  }>;
}

const flatten = (attributes: OtlpAttribute[] = []) =>
  Object.fromEntries(
    attributes.map(({ key, value }) => [key, value.stringValue ?? (value.intValue === undefined ? value.boolValue : Number(value.intValue))]),
  );

/** A local OTLP/HTTP collector: keeps every span exported to `POST /v1/traces`. */
class OtlpReceiver {
  readonly spans: ExportedSpan[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !req.headers['content-type']?.includes('json')) {
          res.writeHead(400).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const { resource, scopeSpans } of body.resourceSpans) {
          const service = String(flatten(resource.attributes)['service.name']);
          for (const { spans } of scopeSpans) {
            for (const span of spans) this.spans.push({ ...span, service, attributes: flatten(span.attributes) });
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** OTLP `SPAN_KIND_SERVER` and `SPAN_KIND_CLIENT`. */
const SERVER = 2;
const CLIENT = 3;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;
const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2)}`;

/** The request's log line, as soon as the app has written it. */
async function logLineOf(app: AppProcess, requestId: string): Promise<Record<string, unknown>> {
  for (;;) {
    const line = app.logLines().find((l) => l.requestId === requestId && l.msg === 'request completed');
    if (line) return line;
    await once(app.child.stdout!, 'data');
  }
}

let receiver: OtlpReceiver;
let upstream: ShoutcloudServer;

beforeAll(async () => {
  receiver = new OtlpReceiver();
  await receiver.start();
  upstream = await startShoutcloudServer();
});

afterAll(async () => {
  await upstream?.close();
  await receiver?.close();
});

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  let app: AppProcess;
  let exitCode: number | null;
  const seen: Record<'miss' | 'joined' | 'bad', { status: number; traceparent?: string; log: Record<string, unknown> }> = {} as never;

  // One app for all cases, stopped before the assertions: with a batch schedule far longer than
  // the test, every span the receiver holds was exported by the SIGTERM shutdown's flush.
  beforeAll(async () => {
    app = await startApp({ SHOUTCLOUD_URL: upstream.url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '600000' });
    const cases = {
      miss: { body: { data: unique('trace me') }, headers: {} },
      joined: { body: { data: unique('joined') }, headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } },
      bad: { body: { nope: true }, headers: {} },
    };
    for (const [name, { body, headers }] of Object.entries(cases) as Array<[keyof typeof cases, (typeof cases)['miss']]>) {
      upstream.reset();
      const requestId = `trace-${name}-${Math.random().toString(36).slice(2)}`;
      const response = await postJson(app.url, '/transform', body, { ...headers, 'x-request-id': requestId });
      const traceparent = upstream.lastHeaders?.traceparent;
      seen[name] = { status: response.status, traceparent: traceparent as string | undefined, log: await logLineOf(app, requestId) };
    }
    expect(receiver.spans).toHaveLength(0);
    exitCode = await app.stop('SIGTERM');
  });

  it('flushes the spans on SIGTERM and exits cleanly', () => {
    expect(exitCode).toBe(0);
    expect(receiver.spans.length).toBeGreaterThanOrEqual(3);
  });

  it("exports a request span, propagates its trace to Shoutcloud and logs its trace id", () => {
    const { status, traceparent, log } = seen.miss;
    expect(status).toBe(200);
    expect(traceparent).toMatch(TRACEPARENT);
    const [, traceId, parentId] = TRACEPARENT.exec(traceparent!)!;

    const span = receiver.spans.find((s) => s.traceId === traceId && s.kind === SERVER);
    expect(span).toMatchObject({
      name: 'POST /transform',
      service: 'transform-api',
      attributes: { 'http.request.method': 'POST', 'http.route': '/transform', 'http.response.status_code': 200 },
    });
    expect(span?.parentSpanId || undefined).toBeUndefined();
    // Shoutcloud's parent is a span of this trace: the request's, or one exported below it.
    expect(receiver.spans.find((s) => s.spanId === parentId)?.traceId).toBe(traceId);
    expect(log.traceId).toBe(traceId);
  });

  it('opens a span per cache tier asked and per upstream try, below the request span', () => {
    const [, traceId, parentId] = TRACEPARENT.exec(seen.miss.traceparent!)!;
    const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
    const request = inTrace.find((s) => s.kind === SERVER)!;
    // The try is what Shoutcloud saw as its parent.
    expect(inTrace.find((s) => s.spanId === parentId)).toMatchObject({
      name: 'shoutcloud.try',
      kind: CLIENT,
      attributes: { 'shoutcloud.attempt': 1, 'shoutcloud.breaker.state': 'closed' },
    });
    expect(inTrace.find((s) => s.name === 'cache.lookup')).toMatchObject({
      parentSpanId: request.spanId,
      attributes: { 'cache.tier': 'memory', 'cache.hit': false },
    });
  });

  it("continues the caller's trace from its traceparent", () => {
    const { status, traceparent, log } = seen.joined;
    expect(status).toBe(200);
    expect(traceparent).toMatch(new RegExp(`^00-${callerTrace}-`));
    expect(log.traceId).toBe(callerTrace);
    const span = receiver.spans.find((s) => s.traceId === callerTrace && s.kind === SERVER);
    expect(span?.parentSpanId).toBe(callerSpan);
  });

  it('records the status of an answer without an upstream call', () => {
    const { status, traceparent, log } = seen.bad;
    expect(status).toBe(400);
    expect(traceparent).toBeUndefined();
    expect(log.traceId).toMatch(/^[0-9a-f]{32}$/);
    const span = receiver.spans.find((s) => s.traceId === log.traceId && s.kind === SERVER);
    expect(span?.name).toBe('POST /transform');
    expect(span?.attributes['http.response.status_code']).toBe(400);
  });
});

it('with tracing off: no traceparent upstream, no trace id in the log', async () => {
  const app = await startApp({ SHOUTCLOUD_URL: upstream.url });
  try {
    upstream.reset();
    const response = await postJson(app.url, '/transform', { data: unique('untraced') }, { 'x-request-id': 'trace-off' });
    expect(response.status).toBe(200);
    expect(upstream.lastHeaders).toBeDefined();
    expect(upstream.lastHeaders?.traceparent).toBeUndefined();
    expect(await logLineOf(app, 'trace-off')).not.toHaveProperty('traceId');
  } finally {
    await app.stop();
  }
});
