import { Logger } from '@nestjs/common';
import { EventEmitter } from 'cockatiel';

/**
 * The version of the Redis server in use, from `INFO server`, read whenever a connection is
 * (re)made: the rate limit shares its counters only on a server that has the commands it needs.
 * Each read runs through the caller's failure policy; while the version is unknown a failed read
 * is tried again every `retryIntervalMs`.
 */
export class ServerVersion {
  private readonly logger = new Logger('Redis');
  private readonly changeEmitter = new EventEmitter<string>();
  private version: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Fires with the version when it is first learned or changes. */
  readonly onChange = this.changeEmitter.addListener;

  constructor(
    private readonly policy: (command: () => Promise<string>) => Promise<string>,
    private readonly retryIntervalMs: number,
  ) {}

  /** The server's `redis_version`, once a connection has answered. */
  get current(): string | undefined {
    return this.version;
  }

  /** Asks for the version with `info` (`INFO server` on the connection in use). */
  read(info: () => Promise<string>): void {
    this.policy(info)
      .then((reply) => {
        const version = /^redis_version:(\S+)/m.exec(String(reply))?.[1];
        if (!version || version === this.version) return;
        this.version = version;
        this.logger.log(`Redis server version ${version}`);
        this.changeEmitter.emit(version);
      })
      .catch((error: Error) => {
        this.logger.debug(`INFO server failed: ${error.message}`);
        // Until the version is known the rate-limit counters stay per replica: ask again.
        if (this.version !== undefined) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.read(info), this.retryIntervalMs);
        this.timer.unref();
      });
  }

  /** Stops asking again. */
  stop(): void {
    clearTimeout(this.timer);
  }
}
