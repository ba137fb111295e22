import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

import { SpanName, cacheTierAttributes, recordSpans, upstreamTryAttributes, withSpan } from './tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
recordSpans();

afterEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('withSpan', () => {
  it('keeps a synchronous function synchronous and ends its span on return', () => {
    const result = withSpan(SpanName.CacheTier, cacheTierAttributes('memory'), (span) => {
      span.setAttribute('cache.hit', true);
      return 42;
    });
    expect(result).toBe(42);
    const [span] = exporter.getFinishedSpans();
    expect(span.name).toBe('cache.lookup');
    expect(span.attributes).toEqual({ 'cache.tier': 'memory', 'cache.hit': true });
  });

  it('is the active span for what the function awaits, and ends when the promise settles', async () => {
    const outer = await withSpan(SpanName.UpstreamTry, upstreamTryAttributes(2, 'half-open'), async (span) => {
      await Promise.resolve();
      expect(trace.getActiveSpan()).toBe(span);
      return span.spanContext().spanId;
    });
    const [span] = exporter.getFinishedSpans();
    expect(span.spanContext().spanId).toBe(outer);
    expect(span.attributes).toMatchObject({ 'shoutcloud.attempt': 2, 'shoutcloud.breaker.state': 'half-open' });
  });

  it('nests: a span started inside another is its child', () => {
    withSpan(SpanName.CacheTier, cacheTierAttributes('redis'), () =>
      withSpan(SpanName.RedisCommand, { 'db.operation.name': 'GET' }, () => undefined),
    );
    const [inner, outer] = exporter.getFinishedSpans();
    expect(inner.name).toBe('redis.command');
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
  });

  it('marks a rejection as an error and passes it on unchanged', async () => {
    const failure = new Error('upstream said 503');
    await expect(withSpan(SpanName.UpstreamTry, {}, () => Promise.reject(failure))).rejects.toBe(failure);
    const [span] = exporter.getFinishedSpans();
    expect(span.status).toEqual({ code: 2, message: 'upstream said 503' });
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('marks a throw as an error and passes it on unchanged', () => {
    const failure = new TypeError('bad');
    expect(() => withSpan(SpanName.CacheTier, {}, () => { throw failure; })).toThrow(failure);
    expect(exporter.getFinishedSpans()[0].status.code).toBe(2);
  });
});
