import { configNamespace } from '../config/config-namespace.js';

/**
 * The per-client rate limit: `perMinute` undefined means none; IPv6 clients are counted per
 * network of `ipv6PrefixLength` bits.
 */
export const rateLimitConfig = configNamespace('rateLimit', (env) => ({
  perMinute: env.RATE_LIMIT_PER_MINUTE,
  ipv6PrefixLength: env.RATE_LIMIT_IPV6_PREFIX,
}));
