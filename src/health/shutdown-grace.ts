import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { appConfig } from '../config/app.config.js';

/**
 * Tracks shutdown: from its first moment {@link ShutdownGrace.draining} is true, and answers carry
 * `Connection: close`: the HTTP server's close only drops connections idle at that moment, and a
 * keep-alive connection that finishes its request afterwards would otherwise hold the process
 * open.
 *
 * Bounds shutdown: Terminus turns readiness to 503 and waits `SHUTDOWN_DELAY_MS`, then the HTTP
 * server drains in-flight requests; if that takes longer than `SHUTDOWN_GRACE_MS` the process
 * exits anyway (code 1, so the lost requests are visible) rather than hang until SIGKILL.
 */
@Injectable()
export class ShutdownGrace implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private started = false;

  constructor(@Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>) {}

  /** True from the first moment of shutdown. */
  get draining(): boolean {
    return this.started;
  }

  beforeApplicationShutdown(signal?: string): void {
    this.started = true;
    const limitMs = this.config.shutdownDelayMs + this.config.shutdownGraceMs;
    this.logger.log(`Shutting down on ${signal ?? 'close'}: readiness is 503, in-flight requests get ${limitMs} ms`);
    // The process is the signal's to end; an app.close() from code (tests) leaves it to its caller.
    if (signal === undefined) return;
    setTimeout(() => {
      this.logger.error(`Shutdown grace of ${this.config.shutdownGraceMs} ms ran out; exiting with requests unfinished`);
      process.exit(1);
    }, limitMs).unref();
  }
}
