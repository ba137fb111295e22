import { Logger } from '@nestjs/common';
import type { RedisClientType } from '@keyv/redis';
import { COMMAND_OPTIONS, reasonOf, RedisEndpoint, type RedisCommands } from './redis.endpoint.js';

// A slow handshake costs requests nothing (commands fail at once while disconnected).
const CONNECT_TIMEOUT_MS = 5000;

/** What {@link urlClients} needs from the Redis configuration. */
export interface UrlOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
}

/** A maker of node-redis's client for `REDIS_URL`, not yet connected; it reconnects by itself. */
export async function urlClients(options: UrlOptions): Promise<() => RedisClientType> {
  // Loaded only when configured: the client is a few hundred modules of start-up and memory.
  const { createClient } = await import('@keyv/redis');
  return () =>
    createClient({
      url: options.url,
      ...(options.password !== undefined && { username: options.username, password: options.password }),
      ...COMMAND_OPTIONS,
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000) },
    }) as RedisClientType;
}

/**
 * One Redis at a fixed address (`REDIS_URL`), through node-redis's own client, which reconnects
 * by itself. The one thing it does not bound is the handshake: a server that accepts the
 * connection and never answers holds it for ever, without an error. So a connection not ready
 * within `CONNECT_TIMEOUT_MS` of being opened is reported as unreachable and dropped for a new
 * client, which dials again.
 */
export class UrlEndpoint extends RedisEndpoint {
  readonly via = 'url';
  readonly primary: string;
  private readonly logger = new Logger('Redis');
  private client: RedisClientType;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly create: () => RedisClientType,
    url: string,
  ) {
    super();
    const { hostname, port } = new URL(url);
    this.primary = `${hostname}:${port || 6379}`;
    this.client = this.watch(create());
  }

  get commands(): RedisCommands {
    return this.client;
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  connect(): void {
    // Rejects only when the client was closed meanwhile: otherwise node-redis retries by itself,
    // with 'error' events.
    this.client.connect().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.handshakeTimer);
    const client = this.client;
    if (!client.isOpen) return;
    await client.close().catch(() => client.destroy());
  }

  private watch(client: RedisClientType): RedisClientType {
    client.on('connect', () => {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = setTimeout(() => this.handshakeTimedOut(client), CONNECT_TIMEOUT_MS);
      this.handshakeTimer.unref();
    });
    client.on('ready', () => {
      clearTimeout(this.handshakeTimer);
      if (client === this.client) this.readyNow();
    });
    // Without a listener node-redis's 'error' events would throw.
    client.on('error', (error: Error) => {
      if (client !== this.client) return;
      clearTimeout(this.handshakeTimer);
      this.unreachable(error);
    });
    return client;
  }

  private handshakeTimedOut(client: RedisClientType): void {
    if (this.closing || client !== this.client || client.isReady) return;
    const error = new Error(`${this.primary} accepted the connection but did not answer the handshake within ${CONNECT_TIMEOUT_MS} ms`);
    this.logger.debug(reasonOf(error));
    this.unreachable(error);
    this.client = this.watch(this.create());
    if (client.isOpen) client.destroy();
    this.connect();
  }
}
