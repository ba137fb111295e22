import { configNamespace } from '../config/config-namespace.js';

/** The per-client-IP rate limit; `perMinute` undefined means none. */
export const rateLimitConfig = configNamespace('rateLimit', (env) => ({ perMinute: env.RATE_LIMIT_PER_MINUTE }));
