import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppModule } from './app.module.js';
import { environment } from './config/environment.js';
import { setupSwagger } from './docs/swagger.setup.js';
import { parseFormBody, parseJsonBody } from './http/body-parsers.js';
import { ApiExceptionFilter } from './errors/api-exception.filter.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-Id` when short and of safe characters (it ends up in logs), else a new one. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Builds the application with every global piece in place; `main.ts` only listens. */
export async function createApp(): Promise<NestFastifyApplication> {
  const env = environment();
  const adapter = new FastifyAdapter({
    bodyLimit: env.MAX_BODY_BYTES,
    genReqId: requestId,
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter, { bufferLogs: true });
  const fastify = app.getHttpAdapter().getInstance();

  // Fastify parses text/plain by default; this API takes JSON or forms, anything else is a 415.
  fastify.removeContentTypeParser('text/plain');
  const bodyLimit = env.MAX_BODY_BYTES;
  app.useBodyParser('application/json', { bodyLimit }, (_request, body, done) => done(null, parseJsonBody(body)));
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit }, (_request, body, done) => done(null, parseFormBody(body)));

  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // RFC 8259 defines no charset parameter for JSON, and the old clients compare the header to
  // exactly `application/json`.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.header('content-type', 'application/json');
    done(null, payload);
  });

  app.useGlobalFilters(new ApiExceptionFilter());
  setupSwagger(app);
  // useProcessExit: exit 0 once drained, instead of re-raising SIGTERM (which exits 143).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  return app;
}
