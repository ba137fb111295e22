import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { errorBody } from './server-errors.js';

/** What one replica holds at most; past it a request is refused before its body is read. */
export interface AdmissionLimits {
  /** Requests being read or answered at once (probes excepted). */
  maxRequests: number;
  /** Bytes of request bodies declared by the requests in flight (being read, or waiting for their answer). */
  maxBodyBytes: number;
  /** The body limit: what a body of unknown length (chunked) counts as, the most it can be. */
  bodyLimit: number;
  /** Open connections; past it Node closes a new one at once. */
  maxConnections: number;
  /** Mean event-loop delay over the last sample past which new requests are refused; 0: never. */
  maxEventLoopDelayMs: number;
  /** V8 heap in use past which new requests are refused. */
  maxHeapUsedBytes: number;
}

/** How often the event-loop delay and the heap are sampled. */
const PRESSURE_SAMPLE_MS = 250;

/** Unanswered requests one connection may have: a client that pipelines more and reads nothing is cut off. */
const MAX_PIPELINED_PER_CONNECTION = 16;
/** Answer bytes a connection may leave unread in this process before it is cut off. */
const MAX_UNREAD_BYTES_PER_CONNECTION = 1024 * 1024;
/** How long answer bytes may wait for a client that stopped reading. */
const SEND_TIMEOUT_MS = 10_000;

/** What the process holds for one connection while it has unanswered requests or unread answers. */
interface ConnectionState {
  unanswered: number;
  sendTimer?: NodeJS.Timeout;
}

const OVERLOADED_BODY = errorBody(503, ERROR_SENTENCES.overloaded);

/** Readies the quick 503 and returns its body; the body is not read, so the connection closes. */
function overloaded(reply: FastifyReply): string {
  reply.code(503).header('retry-after', '1').header('connection', 'close').header('content-type', 'application/json');
  return OVERLOADED_BODY;
}

/** The probes keep answering whatever the load: a replica at its limit is busy, not dead. */
const isProbe = (request: FastifyRequest) => request.routeOptions.url?.startsWith('/health') === true;

/** A body longer than the body limit is refused (413) before it is read, so it counts at most that. */
function declaredBodyBytes(request: FastifyRequest, bodyLimit: number): number {
  const length = request.headers['content-length'];
  if (length !== undefined) return Math.min(bodyLimit, Number(length) || 0);
  return request.headers['transfer-encoding'] === undefined ? 0 : bodyLimit;
}

/**
 * Bounds what a replica holds, whatever arrives: requests in flight and the bytes of their bodies
 * (decided from the headers, before a byte of the body is buffered: past either bound the answer
 * is a 503 with `Retry-After: 1` and the connection is closed), connections, and per connection
 * the answers a client leaves unread (a client that pipelines requests and never reads its
 * answers would otherwise make the process hold every answer). Within those bounds the work can
 * still be more than the CPU does in time (large batches arriving as fast as they are answered):
 * `@fastify/under-pressure` then refuses new requests the same way while the event loop runs late
 * or the heap is nearly full, so the liveness probe is answered and the backlog drains.
 */
export class AdmissionControl {
  private requests = 0;
  private bodyBytes = 0;
  private readonly connections = new WeakMap<Socket, ConnectionState>();

  constructor(private readonly limits: AdmissionLimits) {}

  install(fastify: FastifyInstance): void {
    fastify.server.maxConnections = this.limits.maxConnections;
    void fastify.register(underPressure, {
      maxEventLoopDelay: this.limits.maxEventLoopDelayMs,
      maxHeapUsedBytes: this.limits.maxHeapUsedBytes,
      sampleInterval: PRESSURE_SAMPLE_MS,
      // under-pressure sends what the handler returns, and goes on when it returns nothing; its
      // types only allow the latter.
      pressureHandler: ((request: FastifyRequest, reply: FastifyReply) =>
        isProbe(request) ? undefined : overloaded(reply)) as unknown as FastifyUnderPressureOptions['pressureHandler'],
    });
    fastify.addHook('onRequest', (request, reply, done) => {
      const { socket } = request.raw;
      // The rest of a burst of pipelined requests read with the one that got the connection cut.
      if (socket.destroyed) return;
      const connection = this.connectionOf(socket);
      if (++connection.unanswered > MAX_PIPELINED_PER_CONNECTION) return socket.destroy();
      const probe = isProbe(request);
      const bytes = probe ? 0 : declaredBodyBytes(request, this.limits.bodyLimit);
      if (!probe && (this.requests >= this.limits.maxRequests || this.bodyBytes + bytes > this.limits.maxBodyBytes)) {
        reply.raw.once('close', () => this.answered(socket, connection));
        return void reply.send(overloaded(reply));
      }
      if (!probe) {
        this.requests++;
        this.bodyBytes += bytes;
      }
      reply.raw.once('close', () => {
        if (!probe) {
          this.requests--;
          this.bodyBytes -= bytes;
        }
        this.answered(socket, connection);
      });
      done();
    });
  }

  private connectionOf(socket: Socket): ConnectionState {
    let connection = this.connections.get(socket);
    if (!connection) {
      connection = { unanswered: 0 };
      this.connections.set(socket, connection);
    }
    return connection;
  }

  /** An answer has been handed to the connection: cut off a client that is not reading them. */
  private answered(socket: Socket, connection: ConnectionState): void {
    connection.unanswered--;
    const unread = socket.writableLength;
    if (unread === 0 || socket.destroyed) return;
    if (unread > MAX_UNREAD_BYTES_PER_CONNECTION) return void socket.destroy();
    if (connection.sendTimer) return;
    connection.sendTimer = setTimeout(() => socket.destroy(), SEND_TIMEOUT_MS).unref();
    const stop = () => {
      clearTimeout(connection.sendTimer);
      connection.sendTimer = undefined;
      socket.off('drain', stop).off('close', stop);
    };
    socket.on('drain', stop).on('close', stop);
  }
}
