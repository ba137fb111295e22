import { registerAs } from '@nestjs/config';
import { environment } from './environment.js';

/** What the HTTP layer reads once the app exists: CORS, logging, shutdown timing. */
export const appConfig = registerAs('app', () => {
  const env = environment();
  return {
    corsOrigins: env.CORS_ORIGINS?.split(',').map((origin) => origin.trim()).filter(Boolean) ?? [],
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
  };
});

export type AppConfig = ReturnType<typeof appConfig>;
