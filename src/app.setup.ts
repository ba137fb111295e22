import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ConfigType } from '@nestjs/config';
import { AppModule, type AppOptions } from './app.module.js';
import { appConfig } from './config/app.config.js';
import { Environment, validateEnvironment } from './config/environment.js';
import { setupSwagger } from './docs/swagger.setup.js';
import { ApiError } from './errors/api-error.js';
import { ERROR_SENTENCES } from './errors/error-sentences.js';
import { parseFormBody, parseJsonBody } from './http/body-parsers.js';
import type { BodyRouteConfig } from './http/body-route-config.js';
import { ServerErrorAnswers } from './http/server-errors.js';
import { securityHeadersFor } from './http/security-headers.js';
import { ApiExceptionFilter } from './errors/api-exception.filter.js';
import { AdmissionControl } from './http/admission.js';
import { ShutdownGrace } from './health/shutdown-grace.js';
import { installRequestLog } from './logging/request-log.hook.js';
import { installHttpMetrics } from './metrics/http-metrics.hook.js';
import { MetricsService } from './metrics/metrics.service.js';

const REQUEST_TIMEOUT_CHECK_MS = 500;
// Node's default: the headers alone within a minute.
const HEADERS_TIMEOUT_MS = 60_000;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The caller's `X-Request-Id` when short and of safe characters (it ends up in logs), else a new
 * one. Left on the raw request too, where pino-http (nestjs-pino) picks it up.
 */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  const id = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
  request.id = id;
  return id;
}

/**
 * Builds the application with every global piece in place, configured by `environment`: a
 * validated {@link Environment}, or raw variables to validate (an `EnvironmentError` names each
 * bad one). Nothing is read from `process.env`, so one process can hold several apps (tests).
 * `main.ts` adds the process's part: signals, listening.
 */
export async function createApp(
  environment: Environment | Readonly<Record<string, string | undefined>>,
  options: AppOptions = {},
): Promise<NestFastifyApplication> {
  const env = environment instanceof Environment ? environment : validateEnvironment(environment);
  const { maxBodyBytes, trustProxyHops, requestTimeoutMs, admission } = appConfig(env);
  const serverErrors = new ServerErrorAnswers(requestTimeoutMs);
  const adapter = new FastifyAdapter({
    // No Nest middleware here (per-request work is Fastify hooks), so no middleware engine to run
    // on every request; a middleware added later fails start-up loudly.
    skipMiddie: true,
    bodyLimit: maxBodyBytes,
    genReqId: requestId,
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true },
    // The client IP (rate limits) is the address TRUST_PROXY_HOPS proxies back in X-Forwarded-For.
    trustProxy: (_address: string, hop: number) => hop < trustProxyHops,
    // Headers and body within REQUEST_TIMEOUT_MS, else 408 (ServerErrorAnswers). Node
    // checks the timeouts on an interval (30 s by default), so a stalled request is closed within
    // the timeout + REQUEST_TIMEOUT_CHECK_MS. A headers timeout above the request timeout (Node's
    // 60 s default) keeps Node from ever expiring a request whose body stalls.
    requestTimeout: requestTimeoutMs,
    http: { connectionsCheckingInterval: REQUEST_TIMEOUT_CHECK_MS, headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs) },
    frameworkErrors: serverErrors.answerFrameworkError,
    // Requests that arrive while the server closes get the API's 503 (ServerErrorAnswers).
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env, options), adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();

  const { corsOrigins } = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  if (corsOrigins.length > 0) {
    app.enableCors({
      origin: corsOrigins,
      methods: ['GET', 'POST'],
      exposedHeaders: ['X-Cache', 'X-Request-Id', 'Retry-After'],
      maxAge: 600,
    });
  }

  // Fastify parses text/plain by default; this API takes JSON or forms, anything else is a 415.
  fastify.removeContentTypeParser('text/plain');
  // Both parsers take the adapter's bodyLimit (MAX_BODY_BYTES).
  app.useBodyParser('application/json', {}, (request, body, done) => done(null, parseJsonBody(body, request.headers)));
  app.useBodyParser('application/x-www-form-urlencoded', {}, (request, body, done) => {
    if ((request.routeOptions.config as BodyRouteConfig).jsonOnly) return done(new ApiError(415, ERROR_SENTENCES.jsonOnly), undefined);
    done(null, parseFormBody(body, request.headers));
  });

  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(securityHeadersFor(request.url));
    reply.header('x-request-id', request.id);
    done();
  });
  // Before anything else buffers or works on the request.
  new AdmissionControl(admission).install(fastify);
  const shutdown = app.get(ShutdownGrace);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    // RFC 8259 defines no charset parameter for JSON, and the old clients compare the header to
    // exactly `application/json`.
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.header('content-type', 'application/json');
    if (shutdown.draining) reply.header('connection', 'close');
    done(null, payload);
  });

  const metrics = app.get(MetricsService);
  installHttpMetrics(fastify, metrics);
  serverErrors.install(fastify, metrics);
  installRequestLog(fastify);
  app.useGlobalFilters(new ApiExceptionFilter());
  setupSwagger(app);
  return app;
}
