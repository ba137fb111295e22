import { Logger } from '@nestjs/common';
import type { RedisSentinelType } from '@keyv/redis';
import { nodeAddress, reasonOf, RedisEndpoint, type RedisCommands } from './redis.endpoint.js';

/**
 * The current primary of a Sentinel-monitored set (`REDIS_SENTINELS`), through node-redis's
 * Sentinel client, followed across failovers.
 *
 * Commands run only while node-redis holds a ready connection to the primary the Sentinels name.
 * When that connection is lost (the primary died, or a failover is under way) commands are
 * skipped at once, and a background PING sets node-redis's rediscovery going: it asks the
 * Sentinels about once a second until they name a reachable primary (the same one back, or the
 * promoted replica). A primary that hangs instead is left when the periodic question to the
 * Sentinels names another. A change of primary is a failover: logged once with both addresses.
 */
export class SentinelEndpoint extends RedisEndpoint {
  readonly via = 'sentinel';
  private readonly logger = new Logger('Redis');
  private primaryAddress: string | undefined;
  private rediscovery: Promise<unknown> | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly sentinel: RedisSentinelType,
    private readonly master: string,
    private readonly retryIntervalMs: number,
  ) {
    super();
    // Without a listener node-redis's 'error' events would throw: a Sentinel that does not
    // answer, or (passed through) the primary's connection failing. Without a primary, an
    // outage (a lost primary connection is not re-dialled by node-redis: rediscover); with one,
    // only a Sentinel failed, and commands are not affected.
    sentinel.on('error', (error: unknown) => {
      if (this.ready) {
        this.logger.debug(`Redis Sentinel: ${reasonOf(error)}`);
        return;
      }
      this.unreachable(error);
      this.rediscover();
    });
    sentinel.on('topology-change', (event: { type: string; node?: { host: string; port: number } }) => {
      if (event.type === 'MASTER_CHANGE' && event.node) this.primaryNamed(nodeAddress(event.node));
    });
  }

  get commands(): RedisCommands {
    return this.sentinel as unknown as RedisCommands;
  }

  get ready(): boolean {
    return this.sentinel.isReady && this.sentinel.getMasterNode() !== undefined;
  }

  get primary(): string | undefined {
    return this.primaryAddress;
  }

  override details(): Record<string, unknown> {
    return { sentinelMaster: this.master };
  }

  override wanted(): void {
    this.rediscover();
  }

  connect(): void {
    if (this.closing) return;
    this.sentinel.connect().then(
      // The primary is connected now (or the connection was given up because it is being closed).
      () => this.ready && this.back(),
      (error: Error) => this.connectFailed(error),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.connectTimer);
    if (!this.sentinel.isOpen) return;
    await this.sentinel.close().catch(() => this.sentinel.destroy());
  }

  private primaryNamed(next: string): void {
    const previous = this.primaryAddress;
    this.primaryAddress = next;
    if (previous === undefined) {
      this.logger.log(`Redis through Sentinel: primary of "${this.master}" is ${next}`);
    } else if (previous !== next) {
      this.logger.warn(
        `Redis failover: the Sentinels moved "${this.master}" from ${previous} to ${next}; ` +
          'requests use the new primary as soon as node-redis has connected to it',
      );
      this.movedPrimary({ from: previous, to: next });
    }
    // Connecting to it (a new primary, or the same one after its connection was lost).
    this.rediscover();
  }

  private connectFailed(error: Error): void {
    // node-redis's Sentinel client gives up its first connection after about 16 rounds of asking
    // every Sentinel; start it again, so the service joins the Sentinels whenever they come.
    if (this.closing) return;
    this.unreachable(error);
    void this.sentinel
      .destroy()
      .catch(() => undefined)
      .then(() => {
        clearTimeout(this.connectTimer);
        this.connectTimer = setTimeout(() => this.connect(), this.retryIntervalMs);
        this.connectTimer.unref();
      });
  }

  /**
   * While no ready primary connection is held: one background PING at a time. node-redis does
   * not re-dial a lost primary; a command on it makes node-redis ask the Sentinels and connect to
   * the primary they name, retrying about once a second. The PING resolves once that connection
   * is up, which is when Redis is back.
   */
  private rediscover(): void {
    const sentinel = this.sentinel;
    if (this.rediscovery || this.closing || !sentinel.isReady || this.ready) return;
    this.rediscovery = sentinel.ping().then(
      () => {
        this.rediscovery = undefined;
        this.back();
      },
      () => {
        this.rediscovery = undefined;
        if (this.closing) return;
        // Refused (node-redis gave the command up): ask again, unless a primary came meanwhile.
        setTimeout(() => (this.ready ? this.back() : this.rediscover()), this.retryIntervalMs).unref();
      },
    );
  }

  private back(): void {
    if (!this.closing) this.readyNow();
  }
}
