import { Module, type DynamicModule } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import { stdTimeFunctions, type DestinationStream } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { appConfig } from '../config/app.config.js';

/**
 * JSON lines through pino (nestjs-pino), level from `LOG_LEVEL`; `LOG_FORMAT=pretty` for humans in
 * development (pino-pretty is a dev dependency). pino-http's own per-request line is off: the one
 * line per request is written by `request-log.hook.ts`, which knows the route and cache outcome.
 * Bodies, and so the user's text, are never logged.
 *
 * pino-http runs on no route (`forRoutes: []`): as Nest middleware it would cost every request a
 * child logger, an AsyncLocalStorage context and Fastify's middleware engine for a request-scoped
 * logger nothing uses. A line written while answering a request
 * names the request itself (the request log, the error filter).
 *
 * Lines go to stdout, or to `destination` when given (tests read an app's lines from there).
 */
@Module({})
export class LoggingModule {
  static forRoot(destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [appConfig.KEY],
          useFactory: (config: ConfigType<typeof appConfig>) => {
            const options: PinoHttpOptions = {
              level: config.logLevel,
              autoLogging: false,
              quietReqLogger: true,
              customAttributeKeys: { reqId: 'requestId' },
              // Fastify already chose the id (the caller's, if safe) and left it on the raw request.
              genReqId: (request) => (request as { id?: string }).id ?? 'unknown',
              timestamp: stdTimeFunctions.isoTime,
              formatters: { level: (label: string) => ({ level: label }) },
              base: { service: 'transform-api' },
            };
            if (destination) return { forRoutes: [], pinoHttp: [options, destination] };
            const transport = config.logFormat === 'pretty' ? { target: 'pino-pretty', options: { singleLine: true } } : undefined;
            return { forRoutes: [], pinoHttp: { ...options, transport } };
          },
        }),
      ],
    };
  }
}
