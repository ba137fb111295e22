import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { appConfig } from '../config/app.config.js';

/**
 * Bounds shutdown: Terminus turns readiness to 503 and waits `SHUTDOWN_DELAY_MS`, the HTTP server
 * then drains in-flight requests; if that takes longer than `SHUTDOWN_GRACE_MS` the process exits
 * anyway (code 1, so the lost requests are visible) rather than hang until SIGKILL.
 */
@Injectable()
export class ShutdownGrace implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');

  constructor(@Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>) {}

  beforeApplicationShutdown(signal?: string): void {
    const limitMs = this.config.shutdownDelayMs + this.config.shutdownGraceMs;
    this.logger.log(`Shutting down on ${signal ?? 'close'}: readiness is 503, in-flight requests get ${limitMs} ms`);
    setTimeout(() => {
      this.logger.error(`Shutdown grace of ${this.config.shutdownGraceMs} ms ran out; exiting with requests unfinished`);
      process.exit(1);
    }, limitMs).unref();
  }
}
