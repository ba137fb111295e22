import type { RedisClientType } from '@keyv/redis';
import { COMMAND_OPTIONS, RedisEndpoint, type RedisCommands } from './redis.endpoint.js';

// A slow handshake costs requests nothing (commands fail at once while disconnected).
const CONNECT_TIMEOUT_MS = 5000;

/** What {@link createUrlClient} needs from the Redis configuration. */
export interface UrlOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
}

/** node-redis's client for `REDIS_URL`, not yet connected; it reconnects by itself. */
export async function createUrlClient(options: UrlOptions): Promise<RedisClientType> {
  // Loaded only when configured: the client is a few hundred modules of start-up and memory.
  const { createClient } = await import('@keyv/redis');
  return createClient({
    url: options.url,
    ...(options.password !== undefined && { username: options.username, password: options.password }),
    ...COMMAND_OPTIONS,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000) },
  }) as RedisClientType;
}

/** One Redis at a fixed address (`REDIS_URL`), through node-redis's own client. */
export class UrlEndpoint extends RedisEndpoint {
  readonly via = 'url';
  readonly primary: string;
  private closing = false;

  constructor(
    private readonly client: RedisClientType,
    url: string,
  ) {
    super();
    const { hostname, port } = new URL(url);
    this.primary = `${hostname}:${port || 6379}`;
    client.on('ready', () => this.readyNow());
    // Without a listener node-redis's 'error' events would throw.
    client.on('error', (error: Error) => this.unreachable(error));
  }

  get commands(): RedisCommands {
    return this.client;
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  connect(): void {
    // Rejects only when closed meanwhile: otherwise node-redis retries by itself, with 'error' events.
    this.client.connect().catch((error: Error) => this.closing || this.unreachable(error));
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.client.isOpen) return;
    await this.client.close().catch(() => this.client.destroy());
  }
}
