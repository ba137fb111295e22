import { registerAs } from '@nestjs/config';
import { environment } from './environment.js';

/** How the HTTP server listens, what it accepts, and how it stops. */
export const appConfig = registerAs('app', () => {
  const env = environment();
  return {
    port: env.PORT,
    host: env.HOST,
    maxInputLength: env.MAX_INPUT_LENGTH,
    maxBodyBytes: env.MAX_BODY_BYTES,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    corsOrigins: env.CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean) ?? [],
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
  };
});

export type AppConfig = ReturnType<typeof appConfig>;
