import { jest } from '@jest/globals';
import { BadRequestException, HttpException, Logger, NotFoundException, ServiceUnavailableException, type ArgumentsHost } from '@nestjs/common';
import { ApiError } from './api-error.js';
import { ApiExceptionFilter } from './api-exception.filter.js';
import type { ErrorRouteConfig } from './error-route-config.js';

/** A feature's error as features write them: a subclass of the one base, carrying its answer. */
class UpstreamDownError extends ApiError {
  constructor(retryAfterSeconds: number) {
    super(503, 'The upstream is down.', undefined, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** A Fastify request/reply pair reduced to what the filter touches. */
function hostFor(routeUrl: string | undefined, method = 'POST', url = routeUrl ?? '/x', config: ErrorRouteConfig = {}) {
  const reply = {
    sent: false,
    raw: { destroyed: false },
    statusCode: 0,
    headersSent: {} as Record<string, string>,
    body: undefined as string | undefined,
    code(status: number) {
      this.statusCode = status;
      return this;
    },
    headers(headers: Record<string, string>) {
      Object.assign(this.headersSent, headers);
      return this;
    },
    header(name: string, value: string) {
      this.headersSent[name] = value;
      return this;
    },
    send(body: string) {
      this.body = body;
      return this;
    },
  };
  const request = { routeOptions: { url: routeUrl, config, bodyLimit: 131_072 }, method, url, server: { hasRoute: ({ method: m }: { method: string }) => routeUrl === '/transform' && m === 'POST' } };
  const host = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ArgumentsHost;
  return { host, reply };
}

describe('ApiExceptionFilter', () => {
  const filter = new ApiExceptionFilter();
  // The filter logs an unknown error with its stack; the spy keeps a passing run's output clean
  // and lets the tests assert what would have been logged.
  let logError: jest.SpiedFunction<Logger['error']>;
  beforeEach(() => {
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => logError.mockRestore());

  it.each<[string, unknown, number, Record<string, string>?]>([
    ["a feature's error → its status and headers", new UpstreamDownError(7), 503, { 'retry-after': '7' }],
    ['an ApiError 504', new ApiError(504, 'Too slow.'), 504],
    ['an ApiError 502', new ApiError(502, 'Nonsense from upstream.'), 502],
    ['rate limited → 429', new HttpException('ThrottlerException: Too Many Requests', 429), 429],
    ['validation error → 400', new ApiError(400, 'The request body is not valid.', ['data must be a string']), 400],
    ['a Nest 400 → 400', new BadRequestException(), 400],
    ['a Fastify body-limit error → 413', Object.assign(new Error('too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 413],
    ['a Fastify media-type error → 415', Object.assign(new Error('nope'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 415],
    ['an unknown error → 500 without its message', new Error('secret internals at /app/x.js:1'), 500],
  ])('%s', (_name, exception, status, headers = {}) => {
    const { host, reply } = hostFor('/transform');
    filter.catch(exception, host);
    expect(reply.statusCode).toBe(status);
    expect(reply.headersSent['content-type']).toBe('application/json');
    expect(reply.headersSent).toMatchObject(headers);
    const body = JSON.parse(reply.body!) as { statusCode: number; error: string };
    expect(body.statusCode).toBe(status);
    expect(body.error).not.toContain('secret');
    // Only an error the filter cannot place is logged, once, with the error itself.
    if (status === 500) expect(logError.mock.calls).toEqual([[{ err: exception, requestId: undefined }, 'Unhandled error while answering a request']]);
    else expect(logError).not.toHaveBeenCalled();
  });

  it('keeps validation details', () => {
    const { host, reply } = hostFor('/transform');
    filter.catch(new ApiError(400, 'The request body is not valid.', ['data is required']), host);
    expect(JSON.parse(reply.body!)).toEqual({ statusCode: 400, error: 'The request body is not valid.', details: ['data is required'] });
  });

  it("on a route with a body error sentence, body problems answer that sentence; 413 and 5xx keep theirs", () => {
    const legacy = 'Data was not able to be parsed from request. Please try again.';
    for (const [exception, status, sentence] of [
      [new ApiError(400, 'The request body is not valid.', ['data must be a string']), 400, legacy],
      [Object.assign(new Error('x'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 400, legacy],
      [Object.assign(new Error('x'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 413, undefined],
      [new UpstreamDownError(1), 503, 'The upstream is down.'],
    ] as const) {
      const { host, reply } = hostFor('/v1', 'POST', '/v1', { bodyErrorSentence: legacy });
      filter.catch(exception, host);
      expect(reply.statusCode).toBe(status);
      const body = JSON.parse(reply.body!) as { error: string; details?: unknown };
      if (sentence) expect(body.error).toBe(sentence);
      else expect(body.error).not.toBe(legacy);
      expect(body.details).toBeUndefined();
    }
  });

  it('answers 405 with Allow when the path exists for another method, else 404', () => {
    const known = hostFor(undefined, 'GET', '/transform');
    (known.host.switchToHttp().getRequest() as { server: unknown }).server = { hasRoute: ({ method }: { method: string }) => method === 'POST' };
    filter.catch(new NotFoundException(), known.host);
    expect(known.reply.statusCode).toBe(405);
    expect(known.reply.headersSent.allow).toBe('POST');

    const unknown = hostFor(undefined, 'GET', '/nothing');
    (unknown.host.switchToHttp().getRequest() as { server: unknown }).server = { hasRoute: () => false };
    filter.catch(new NotFoundException(), unknown.host);
    expect(unknown.reply.statusCode).toBe(404);
  });

  it("passes Terminus' failed health check body through as a 503", () => {
    const { host, reply } = hostFor('/health', 'GET');
    const result = { status: 'shutting_down', info: {}, error: {}, details: {} };
    filter.catch(new ServiceUnavailableException(result), host);
    expect(reply.statusCode).toBe(503);
    expect(JSON.parse(reply.body!)).toEqual(result);
  });

  it('sends nothing to a client that has gone', () => {
    const { host, reply } = hostFor('/transform');
    reply.raw.destroyed = true;
    const send = jest.spyOn(reply, 'send');
    filter.catch(new ApiError(499, 'The client closed the connection.'), host);
    expect(send).not.toHaveBeenCalled();
  });
});
