import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  ServiceUnavailableException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { ERROR_SENTENCES } from './error-sentences.js';
import type { ErrorRouteConfig } from './error-route-config.js';

interface ErrorAnswer {
  status: number;
  sentence: string;
  details?: string[];
  headers?: Record<string, string>;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Fastify's own errors (body parsing, limits) carry a code and a 4xx status. */
interface FastifyError extends Error {
  code?: string;
  statusCode?: number;
}

/**
 * The one boundary where errors become answers: JSON `{statusCode, error, details?}` with
 * `Content-Type: application/json`, never HTML or a stack trace. {@link ApiError}s answer what
 * they carry; a route's {@link ErrorRouteConfig} may replace the sentence for body problems.
 * Unknown errors are logged and answered 500.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // Nobody is left to read an answer (the client closed the connection).
    if (reply.sent || reply.raw.destroyed) return;

    // Terminus reports a failed health check as a 503 whose body is the check result: keep it.
    if (exception instanceof ServiceUnavailableException && isHealthCheckResult(exception.getResponse())) {
      reply.code(503).header('content-type', 'application/json').send(JSON.stringify(exception.getResponse()));
      return;
    }
    const answer = this.toAnswer(exception, request);
    const { bodyErrorSentence, jsonOnly } = (request.routeOptions?.config ?? {}) as ErrorRouteConfig;
    if (bodyErrorSentence && (answer.status === 400 || answer.status === 415)) {
      Object.assign(answer, { status: 400, sentence: bodyErrorSentence, details: undefined });
    }
    if (jsonOnly && answer.status === 415) answer.sentence = ERROR_SENTENCES.jsonOnly;
    const body: Record<string, unknown> = { statusCode: answer.status, error: answer.sentence };
    if (answer.details?.length) body.details = answer.details;
    reply.code(answer.status).headers(answer.headers ?? {}).header('content-type', 'application/json').send(JSON.stringify(body));
  }

  private toAnswer(exception: unknown, request: FastifyRequest): ErrorAnswer {
    if (exception instanceof ApiError) {
      return { status: exception.getStatus(), sentence: exception.sentence, details: exception.details, headers: exception.headers };
    }
    if (exception instanceof HttpException && exception.getStatus() === 404) return this.notFound(request);
    if (exception instanceof HttpException) {
      return { status: exception.getStatus(), sentence: sentenceFor(exception.getStatus(), request) };
    }
    const fastifyError = exception as FastifyError;
    if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return this.fromFastify(fastifyError, request);
    }
    this.logger.error({ err: exception, requestId: request.id }, 'Unhandled error while answering a request');
    return { status: 500, sentence: ERROR_SENTENCES.internal };
  }

  private fromFastify(error: FastifyError, request: FastifyRequest): ErrorAnswer {
    if (error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return { status: 400, sentence: ERROR_SENTENCES.bodyLengthMismatch };
    }
    return { status: error.statusCode!, sentence: sentenceFor(error.statusCode!, request) };
  }

  /** 404, or 405 with `Allow` when the path exists for other methods. */
  private notFound(request: FastifyRequest): ErrorAnswer {
    const url = request.url.split('?')[0];
    const fastify = request.server;
    const allowed = METHODS.filter((method) => fastify.hasRoute({ method, url }));
    if (allowed.length > 0) {
      return {
        status: 405,
        sentence: ERROR_SENTENCES.methodNotAllowed(request.method, url, allowed),
        headers: { allow: allowed.join(', ') },
      };
    }
    return { status: 404, sentence: ERROR_SENTENCES.notFound(request.method, url) };
  }
}

function isHealthCheckResult(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'status' in body && 'details' in body;
}

function sentenceFor(status: number, request: FastifyRequest): string {
  switch (status) {
    case 400:
      return ERROR_SENTENCES.unparseableBody;
    case 413:
      return ERROR_SENTENCES.bodyTooLarge(request.routeOptions.bodyLimit);
    case 415:
      return ERROR_SENTENCES.unsupportedMediaType;
    case 429:
      // ThrottlerGuard's exception; its Retry-After header is already on the reply.
      return ERROR_SENTENCES.tooManyRequests;
  }
  const name = HttpStatus[status]?.toLowerCase().replace(/_/g, ' ') ?? 'error';
  return ERROR_SENTENCES.otherStatus(name);
}
