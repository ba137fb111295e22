import { context, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { BreakerState } from '../resilience/breaker-state.js';

/** Names of the spans this service starts below the request span, one place for all of them. */
export const SpanName = {
  /** One look-up in one cache tier (attributes: `cacheTierAttributes`). */
  CacheTier: 'cache.lookup',
  /** One try of a Shoutcloud call, inside the retry policy (attributes: `upstreamTryAttributes`). */
  UpstreamTry: 'shoutcloud.try',
  /** One Redis command (attributes: `redisCommandAttributes`). */
  RedisCommand: 'redis.command',
} as const;
export type SpanName = (typeof SpanName)[keyof typeof SpanName];

// CLIENT spans are the ones that leave the process; a cache look-up may (Redis) or may not.
const KIND: Record<SpanName, SpanKind> = {
  [SpanName.CacheTier]: SpanKind.INTERNAL,
  [SpanName.UpstreamTry]: SpanKind.CLIENT,
  [SpanName.RedisCommand]: SpanKind.CLIENT,
};

/** Attributes of a cache look-up span; `hit` can be set later with `span.setAttribute('cache.hit', …)`. */
export function cacheTierAttributes(tier: 'memory' | 'redis'): Attributes {
  return { 'cache.tier': tier };
}

/**
 * Attributes of one upstream try: `attempt` counts from 1; `breakerState` is the circuit
 * breaker's state when the try starts.
 */
export function upstreamTryAttributes(attempt: number, breakerState: BreakerState): Attributes {
  return { 'shoutcloud.attempt': attempt, 'shoutcloud.breaker.state': breakerState, 'http.request.method': 'POST' };
}

/** Attributes of one Redis command (OpenTelemetry database semantic conventions). */
export function redisCommandAttributes(operation: string): Attributes {
  return { 'db.system.name': 'redis', 'db.operation.name': operation };
}

const tracer = trace.getTracer('transform-api');
// With tracing off, `withSpan` is a plain call, not even a no-op span.
let recording = false;
const NOT_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Makes `withSpan` start real spans; called once a tracer provider is registered (`tracing.setup.ts`). */
export function recordSpans(): void {
  recording = true;
}

function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `fn` inside a new span (child of the active one, and active while `fn` runs, so an
 * upstream call made inside carries it in `traceparent`). The span ends when `fn` returns or,
 * for a promise, settles; a throw or rejection marks it as an error and is passed on unchanged.
 * A synchronous `fn` stays synchronous. With tracing off, `fn` gets a span that records nothing.
 */
export function withSpan<T>(name: SpanName, attributes: Attributes, fn: (span: Span) => T): T {
  if (!recording) return fn(NOT_RECORDING);
  const span = tracer.startSpan(name, { kind: KIND[name], attributes });
  return context.with(trace.setSpan(context.active(), span), () => {
    let result: T;
    try {
      result = fn(span);
    } catch (error) {
      recordFailure(span, error);
      span.end();
      throw error;
    }
    if (!(result instanceof Promise)) {
      span.end();
      return result;
    }
    return result.then(
      (value: unknown) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        recordFailure(span, error);
        span.end();
        throw error;
      },
    ) as T;
  });
}
