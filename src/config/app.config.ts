import { getHeapStatistics } from 'node:v8';
import { configNamespace } from './config-namespace.js';
import type { Environment } from './environment.js';

const KiB = 1024;
const within = (value: number, lowest: number, highest: number) => Math.min(highest, Math.max(lowest, Math.floor(value)));

/**
 * What one replica holds at most (`src/http/admission.ts`). Unset bounds follow V8's heap limit,
 * which the pod sets as a share of its memory limit, so they follow an overlay's limit too.
 */
function admissionLimits(env: Environment) {
  const heapBytes = getHeapStatistics().heap_size_limit;
  return {
    maxRequests: env.MAX_REQUESTS_IN_FLIGHT ?? within(heapBytes / (64 * KiB), 256, 16_384),
    maxBodyBytes: env.MAX_BODY_BYTES_IN_FLIGHT ?? Math.floor(heapBytes / 32),
    bodyLimit: env.MAX_BODY_BYTES,
    maxConnections: env.MAX_CONNECTIONS ?? within(heapBytes / (32 * KiB), 1024, 65_536),
    maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: Math.floor(heapBytes * 0.9),
  };
}

/** What the HTTP layer reads: body size, proxies, request timeout, CORS, logging, shutdown timing. */
export const appConfig = configNamespace('app', (env) => ({
  maxBodyBytes: env.MAX_BODY_BYTES,
  admission: admissionLimits(env),
  trustProxyHops: env.TRUST_PROXY_HOPS,
  requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
  corsOrigins: env.CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean) ?? [],
  shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
  shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  logLevel: env.LOG_LEVEL,
  logFormat: env.LOG_FORMAT,
}));
