import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { API_SECURITY_HEADERS } from './security-headers.js';

// Answers that Node's HTTP server and Fastify would otherwise write in their own shape, before
// any route, hook or exception filter runs: a malformed request, headers too large, a request
// that did not arrive in time, a URL that does not decode, an `Expect` other than 100-continue,
// a CONNECT (which Node never hands to Fastify), a request caught by shutdown. Each
// gets the API's error body, `Content-Type: application/json`, an `X-Request-Id` and the
// security headers, and is counted in the request metrics (under route `unmatched`).

/** Where an answer given before any route is counted (the metrics service). */
export interface UnmatchedAnswerCounter {
  countAnswer(route: string, method: string, status: number): void;
}

/** The route label of answers given before a route was matched. */
const UNMATCHED = 'unmatched';

/** The API's error body, for answers written outside the exception filter. */
export function errorBody(status: number, sentence: string): string {
  return JSON.stringify({ statusCode: status, error: sentence });
}

/** Node's `clientError`: what it means for the answer, or nothing when nobody can read one. */
function clientErrorAnswer(error: NodeJS.ErrnoException, requestTimeoutMs: number): { status: number; sentence: string } {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, sentence: ERROR_SENTENCES.requestTimeout(requestTimeoutMs) };
  if (error.code === 'HPE_HEADER_OVERFLOW') return { status: 431, sentence: ERROR_SENTENCES.headersTooLarge };
  return { status: 400, sentence: ERROR_SENTENCES.badRequest };
}

/** The API's headers for an error answer of `body`, with a new request id. */
function errorHeaders(body: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return {
    ...API_SECURITY_HEADERS,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': randomUUID(),
    ...extra,
  };
}

/**
 * Answers a connection-level error on the socket itself (no request object exists, or the one
 * that does will never complete); the caller closes it, as Node's own handler does.
 */
function answerOnSocket(socket: Socket, status: number, sentence: string, extra: OutgoingHttpHeaders = {}): void {
  const body = errorBody(status, sentence);
  const headers = errorHeaders(body, { ...extra, connection: 'close' });
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${String(value)}\r\n`).join('');
  socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
}

/**
 * The answers Node and Fastify would give in their own shape. Made before the Fastify instance
 * (which takes {@link answerFrameworkError} as an option), installed on it once the metrics exist.
 */
export class ServerErrorAnswers {
  private metrics: UnmatchedAnswerCounter | undefined;
  private closing = false;

  constructor(private readonly requestTimeoutMs: number) {}

  /**
   * Fastify's `frameworkErrors`: a URL its router cannot decode (`/%zz`). Runs before the
   * `onRequest` hooks, so the reply gets its headers here; a Buffer, because Fastify adds
   * `; charset=utf-8` to a JSON string and no `onSend` hook runs to take it off.
   */
  readonly answerFrameworkError = (_error: Error, request: FastifyRequest, reply: FastifyReply): void => {
    this.count(400);
    void reply
      .code(400)
      .headers(API_SECURITY_HEADERS)
      .header('x-request-id', request.id)
      .header('content-type', 'application/json')
      .send(Buffer.from(errorBody(400, ERROR_SENTENCES.badUrl)));
  };

  /**
   * Takes over Node's `clientError` answers (400, 408, 431), its bare 417 to an `Expect` other
   * than 100-continue, its silent close of a CONNECT (now a 405), and Fastify's answer to
   * requests that arrive while the server closes (a 503 with `Retry-After`, so the client sends
   * it again to another replica).
   */
  install(fastify: FastifyInstance, metrics: UnmatchedAnswerCounter): void {
    this.metrics = metrics;
    fastify.server.removeAllListeners('clientError');
    fastify.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (error.code !== 'ECONNRESET' && !socket.destroyed && socket.writable) {
        const { status, sentence } = clientErrorAnswer(error, this.requestTimeoutMs);
        answerOnSocket(socket, status, sentence);
        this.count(status);
      }
      socket.destroy();
    });
    // 100-continue is left to Node (which answers `100 Continue` when nobody listens for it).
    fastify.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
      const body = errorBody(417, ERROR_SENTENCES.expectationFailed);
      response.writeHead(417, errorHeaders(body)).end(body);
      this.count(417, request.method);
    });
    // Node hands a CONNECT to this event alone, never to the request handler: this is no proxy.
    fastify.server.on('connect', (_request: IncomingMessage, socket: Socket) => {
      if (socket.writable) answerOnSocket(socket, 405, ERROR_SENTENCES.connectNotAllowed, { allow: 'GET, POST' });
      socket.end();
      this.count(405, 'CONNECT');
    });
    fastify.addHook('preClose', (done) => {
      this.closing = true;
      done();
    });
    fastify.addHook('onRequest', (_request, reply, done) => {
      if (!this.closing) return done();
      void reply
        .code(503)
        .header('retry-after', '1')
        .header('connection', 'close')
        .header('content-type', 'application/json')
        .send(errorBody(503, ERROR_SENTENCES.shuttingDown));
    });
  }

  /** An answer given before any route, where the metrics hooks do not run. */
  private count(status: number, method = 'UNKNOWN'): void {
    this.metrics?.countAnswer(UNMATCHED, method, status);
  }
}
