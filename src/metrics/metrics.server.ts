import { HttpException, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { Readiness } from '../health/readiness.js';
import { API_SECURITY_HEADERS } from '../http/security-headers.js';
import { metricsConfig } from './metrics.config.js';
import { MetricsService } from './metrics.service.js';
import { SharedRender } from './shared-render.js';

// Prometheus and a few people: a handful of connections, each done quickly.
const MAX_CONNECTIONS = 32;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The operators' port, `METRICS_PORT` on `HOST`: `GET /metrics` (Prometheus text, one rendering
 * shared by concurrent scrapes and reused for `METRICS_CACHE_MS`) and `GET /health` (readiness
 * with every detail, the Redis node's address included). A plain Node server: nothing of the
 * API's request path (hooks, rate limit, request log) runs here, and the public port has neither
 * route's details. Listens once the app is initialised; closes with it.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private readonly server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (request, response) => void this.answer(request, response));
  private readonly scrape: SharedRender;

  constructor(
    @Inject(metricsConfig.KEY) private readonly config: ConfigType<typeof metricsConfig>,
    private readonly metrics: MetricsService,
    private readonly readiness: Readiness,
  ) {
    this.scrape = new SharedRender(() => metrics.exposition(), config.cacheMs);
    this.server.maxConnections = MAX_CONNECTIONS;
  }

  /** The port listened on (the one chosen when `METRICS_PORT` is 0). */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server.listen(this.config.port, this.config.host);
    await once(this.server, 'listening');
    this.logger.log(`/metrics and /health on ${this.config.host}:${this.port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.server.listening) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url?.split('?', 1)[0];
    if (path !== '/metrics' && path !== '/health') return send(response, 404, ERROR_SENTENCES.metricsPortRoutes);
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, ERROR_SENTENCES.metricsPortRoutes, { allow: 'GET, HEAD' });
    try {
      if (path === '/metrics') {
        const text = await this.scrape.text();
        return write(response, 200, text, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' });
      }
      const health = await this.readiness.check('internal');
      return write(response, 200, JSON.stringify(health), { 'content-type': 'application/json', 'cache-control': 'no-store' });
    } catch (error) {
      // Terminus throws its 503 answer (shutting down) as an HttpException carrying the body.
      if (error instanceof HttpException) {
        return write(response, error.getStatus(), JSON.stringify(error.getResponse()), { 'content-type': 'application/json' });
      }
      this.logger.error(`${path} failed: ${String(error)}`);
      return send(response, 500, ERROR_SENTENCES.internal);
    }
  }
}

function write(response: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders): void {
  response.writeHead(status, { ...API_SECURITY_HEADERS, ...headers, 'content-length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** An error in the API's shape. */
function send(response: ServerResponse, status: number, sentence: string, headers: OutgoingHttpHeaders = {}): void {
  write(response, status, JSON.stringify({ statusCode: status, error: sentence }), { ...headers, 'content-type': 'application/json' });
}
