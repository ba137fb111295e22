import { configNamespace } from './config-namespace.js';

/** What the HTTP layer reads: body size, proxies, request timeout, CORS, logging, shutdown timing. */
export const appConfig = configNamespace('app', (env) => ({
  maxBodyBytes: env.MAX_BODY_BYTES,
  trustProxyHops: env.TRUST_PROXY_HOPS,
  requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
  corsOrigins: env.CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean) ?? [],
  shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
  shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  logLevel: env.LOG_LEVEL,
  logFormat: env.LOG_FORMAT,
}));
