import { Logger } from '@nestjs/common';
import type { RedisSentinelType } from '@keyv/redis';
import type { RedisNodeAddress } from './redis.config.js';
import { nodeAddress, reasonOf, RedisEndpoint, type RedisCommands } from './redis.endpoint.js';
import type { AskSentinels, SentinelAnswer } from './redis.sentinel-probe.js';

/** What the follower needs to know and to do besides node-redis's client. */
export interface SentinelFollowerOptions {
  readonly master: string;
  readonly nodes: readonly RedisNodeAddress[];
  /** How often the Sentinels are asked, and how soon a failed connection is tried again. */
  readonly intervalMs: number;
  /** A new node-redis Sentinel client for these Sentinels, in this order. */
  readonly create: (nodes: readonly RedisNodeAddress[]) => RedisSentinelType;
  /** Asks the Sentinels, each bounded in time. */
  readonly ask: AskSentinels;
}

/**
 * The current primary of a Sentinel-monitored set (`REDIS_SENTINELS`), through node-redis's
 * Sentinel client, followed across failovers.
 *
 * Commands run only while node-redis holds a ready connection to the primary the Sentinels name.
 * When that connection is lost (the primary died, or a failover is under way) commands are
 * skipped at once, and a background PING sets node-redis's rediscovery going: it asks the
 * Sentinels about once a second until they name a reachable primary.
 *
 * Every `intervalMs` the follower asks every Sentinel itself, each within a time limit, rather
 * than letting node-redis do it: node-redis holds every command while it asks, one Sentinel at a
 * time, so a Sentinel that accepts and never answers would hold them all. When the Sentinels name
 * another primary than the one in use (a primary that hangs is never left otherwise), node-redis's
 * client is started again on the Sentinels that answered. A Sentinel that stops answering is
 * logged once, and once when it answers again. A change of primary is a failover: logged once
 * with both addresses.
 */
export class SentinelEndpoint extends RedisEndpoint {
  readonly via = 'sentinel';
  private readonly logger = new Logger('Redis');
  private primaryAddress: string | undefined;
  private rediscovery: Promise<unknown> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private starting = false;
  private scanning = false;
  private closing = false;
  private readonly silent = new Set<string>();

  constructor(
    private sentinel: RedisSentinelType,
    private readonly options: SentinelFollowerOptions,
  ) {
    super();
    this.watch(sentinel);
  }

  get commands(): RedisCommands {
    return this.sentinel as unknown as RedisCommands;
  }

  get ready(): boolean {
    return !this.starting && this.sentinel.isReady && this.sentinel.getMasterNode() !== undefined;
  }

  get primary(): string | undefined {
    return this.primaryAddress;
  }

  override details(): Record<string, unknown> {
    return { sentinelMaster: this.options.master, ...(this.silent.size > 0 && { silentSentinels: [...this.silent] }) };
  }

  override wanted(): void {
    this.rediscover();
  }

  connect(): void {
    if (this.closing) return;
    this.starting = true;
    const sentinel = this.sentinel;
    sentinel.connect().then(
      () => {
        this.starting = false;
        // The primary is connected now (or the connection was given up because it is being closed).
        if (this.ready && !this.closing) this.readyNow();
      },
      (error: Error) => this.connectFailed(sentinel, error),
    );
    if (!this.scanTimer) {
      this.scanTimer = setInterval(() => void this.scan(), this.options.intervalMs);
      this.scanTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.scanTimer);
    if (!this.sentinel.isOpen) return;
    await this.sentinel.close().catch(() => this.sentinel.destroy());
  }

  private watch(sentinel: RedisSentinelType): void {
    // Without a listener node-redis's 'error' events would throw: a Sentinel that does not
    // answer, or (passed through) the primary's connection failing. Without a primary, an
    // outage (a lost primary connection is not re-dialled by node-redis: rediscover); with one,
    // only a Sentinel failed, and commands are not affected.
    sentinel.on('error', (error: unknown) => {
      if (sentinel !== this.sentinel) return;
      if (this.ready) {
        this.logger.debug(`Redis Sentinel: ${reasonOf(error)}`);
        return;
      }
      this.unreachable(error);
      this.rediscover();
    });
    sentinel.on('topology-change', (event: { type: string; node?: { host: string; port: number } }) => {
      if (sentinel === this.sentinel && event.type === 'MASTER_CHANGE' && event.node) this.primaryNamed(nodeAddress(event.node));
    });
  }

  private primaryNamed(next: string): void {
    const previous = this.primaryAddress;
    this.primaryAddress = next;
    if (previous === undefined) {
      this.logger.log(`Redis through Sentinel: primary of "${this.options.master}" is ${next}`);
    } else if (previous !== next) {
      this.logger.warn(
        `Redis failover: the Sentinels moved "${this.options.master}" from ${previous} to ${next}; ` +
          'requests use the new primary as soon as node-redis has connected to it',
      );
      this.movedPrimary({ from: previous, to: next });
    }
    // Connecting to it (a new primary, or the same one after its connection was lost).
    this.rediscover();
  }

  private connectFailed(sentinel: RedisSentinelType, error: Error): void {
    // node-redis's Sentinel client gives up its first connection after about 16 rounds of asking
    // every Sentinel; start it again, so the service joins the Sentinels whenever they come.
    if (this.closing || sentinel !== this.sentinel) return;
    this.unreachable(error);
    void this.restart();
  }

  /** Asks every Sentinel; when they name another primary than node-redis's, starts it again. */
  private async scan(): Promise<void> {
    if (this.scanning || this.starting || this.closing) return;
    this.scanning = true;
    try {
      const named = this.named(await this.options.ask(this.options.nodes));
      const current = this.sentinel.getMasterNode();
      if (named !== undefined && current !== undefined && named !== nodeAddress(current) && !this.starting) await this.restart();
    } finally {
      this.scanning = false;
    }
  }

  /**
   * node-redis's client again, on the Sentinels that answer now, in the configured order; while
   * none answers, asked again every `intervalMs`.
   */
  private async restart(): Promise<void> {
    this.starting = true;
    const old = this.sentinel;
    await old.destroy().catch(() => undefined);
    const answers = await this.options.ask(this.options.nodes);
    this.named(answers);
    if (this.closing) return;
    const answering = answers.filter((answer) => answer.error === undefined).map((answer) => answer.node);
    if (answering.length === 0) {
      this.unreachable(new Error(`none of the Sentinels answered (${answers.map((answer) => answer.error).join('; ')})`));
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.restart(), this.options.intervalMs);
      this.retryTimer.unref();
      return;
    }
    this.sentinel = this.options.create(answering);
    this.watch(this.sentinel);
    this.connect();
  }

  /** The primary the first answering Sentinel names; logs each Sentinel that falls silent or answers again. */
  private named(answers: readonly SentinelAnswer[]): string | undefined {
    for (const answer of answers) {
      const address = nodeAddress(answer.node);
      if (answer.error !== undefined && !this.silent.has(address)) {
        this.silent.add(address);
        this.logger.warn(`Redis Sentinel ${address} gave no answer (${answer.error}); the others are asked`);
      } else if (answer.error === undefined && this.silent.delete(address)) {
        this.logger.log(`Redis Sentinel ${address} answers again`);
      }
    }
    return answers.find((answer) => answer.primary !== undefined)?.primary;
  }

  /**
   * While no ready primary connection is held: one background PING at a time. node-redis does
   * not re-dial a lost primary; a command on it makes node-redis ask the Sentinels and connect to
   * the primary they name, retrying about once a second. The PING resolves once that connection
   * is up, which is when Redis is back.
   */
  private rediscover(): void {
    const sentinel = this.sentinel;
    if (this.rediscovery || this.closing || this.starting || !sentinel.isReady || this.ready) return;
    this.rediscovery = sentinel.ping().then(
      () => {
        this.rediscovery = undefined;
        if (!this.closing) this.readyNow();
      },
      () => {
        this.rediscovery = undefined;
        if (this.closing) return;
        // Refused (node-redis gave the command up): ask again, unless a primary came meanwhile.
        setTimeout(() => (this.ready ? this.readyNow() : this.rediscover()), this.options.intervalMs).unref();
      },
    );
  }
}
