import { Logger } from '@nestjs/common';
import type { RedisClientType } from '@keyv/redis';
import type { RedisNodeAddress } from './redis.config.js';
import { nodeAddress, reasonOf, RedisEndpoint, withinTime, type RedisCommands } from './redis.endpoint.js';
import type { AskSentinels, SentinelAnswer } from './redis.sentinel-probe.js';

/** What the follower needs to know and to do. */
export interface SentinelFollowerOptions {
  readonly master: string;
  readonly nodes: readonly RedisNodeAddress[];
  /** How often the Sentinels are asked. */
  readonly intervalMs: number;
  /** The time limit for connecting to a primary and learning its role. */
  readonly timeoutMs: number;
  /** node-redis's client for the node at this address, not yet connected; it never reconnects. */
  readonly create: (primary: RedisNodeAddress) => RedisClientType;
  /** Asks the Sentinels, each bounded in time. */
  readonly ask: AskSentinels;
}

const closed = (): Promise<never> => Promise.reject(new Error('The client is closed'));

/** What commands run on before any primary was connected: every command fails as disconnected. */
const NOT_CONNECTED = { get: closed, set: closed, del: closed, ping: closed, info: closed, multi: closed } as unknown as RedisCommands;

/**
 * The current primary of a Sentinel-monitored set (`REDIS_SENTINELS`), followed across
 * failovers as Redis's guide for Sentinel clients describes: ask the Sentinels which node is
 * primary, connect to it, check with `ROLE` that it is one, and ask again when the connection is
 * lost.
 *
 * Commands go to one plain node-redis connection to the primary, and nothing about the Sentinels
 * ever holds them: the Sentinels are asked on connections of their own, every `intervalMs`, each
 * within a time limit, so a Sentinel that is down, paused or black-holed costs requests nothing.
 * When they name another primary than the one in use (a primary that hangs is never left
 * otherwise), the follower connects to it; a lost connection is never re-dialled, only the node
 * the Sentinels name. A Sentinel that stops answering is logged once, and once when it answers
 * again. A change of primary is a failover: logged once with both addresses.
 */
export class SentinelEndpoint extends RedisEndpoint {
  readonly via = 'sentinel';
  private readonly logger = new Logger('Redis');
  /** The connection to the primary in use: set once its role is checked. */
  private client: RedisClientType | undefined;
  private primaryAddress: string | undefined;
  private scanTimer: NodeJS.Timeout | undefined;
  private scanning = false;
  private closing = false;
  private readonly silent = new Set<string>();

  constructor(private readonly options: SentinelFollowerOptions) {
    super();
  }

  get commands(): RedisCommands {
    return this.client ?? NOT_CONNECTED;
  }

  get ready(): boolean {
    return this.client?.isReady ?? false;
  }

  get primary(): string | undefined {
    return this.primaryAddress;
  }

  override details(): Record<string, unknown> {
    return { sentinelMaster: this.options.master, ...(this.silent.size > 0 && { silentSentinels: [...this.silent] }) };
  }

  connect(): void {
    if (this.closing || this.scanTimer) return;
    this.scanTimer = setInterval(() => void this.scan(), this.options.intervalMs);
    this.scanTimer.unref();
    void this.scan();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.scanTimer);
    const client = this.client;
    if (!client?.isOpen) return;
    await client.close().catch(() => client.destroy());
  }

  /** Asks every Sentinel; connects to the primary they name unless it is the one in use. */
  private async scan(): Promise<void> {
    if (this.scanning || this.closing) return;
    this.scanning = true;
    try {
      const answers = await this.options.ask(this.options.nodes);
      if (this.closing) return;
      const named = this.named(answers);
      if (named === undefined) {
        if (!this.ready) this.unreachable(new Error(nonePrimary(answers)));
        return;
      }
      const address = nodeAddress(named);
      if (address === this.primaryAddress && this.client?.isOpen) return;
      this.primaryNamed(address);
      await this.follow(named, address);
    } finally {
      this.scanning = false;
    }
  }

  /** Drops the connection in use and connects to `primary`, which must say it is one. */
  private async follow(primary: RedisNodeAddress, address: string): Promise<void> {
    const previous = this.client;
    this.client = undefined;
    if (previous?.isOpen) previous.destroy();
    const client = this.options.create(primary);
    // Without a listener node-redis's 'error' events would throw. The connection is never
    // re-dialled: the next question to the Sentinels says where to go.
    client.on('error', (error: unknown) => {
      if (client !== this.client || this.closing) return;
      this.unreachable(new Error(`${address}: ${reasonOf(error)}`));
      void this.scan();
    });
    try {
      await withinTime(client.connect(), this.options.timeoutMs, 'did not answer the handshake');
      const role = await withinTime(roleOf(client), this.options.timeoutMs, 'did not answer ROLE');
      if (role !== 'master') throw new Error(`ROLE says ${role}, not master`);
    } catch (error) {
      if (client.isOpen) client.destroy();
      if (!this.closing) this.unreachable(new Error(`${address}: ${reasonOf(error)}`));
      return;
    }
    if (this.closing) {
      client.destroy();
      return;
    }
    this.client = client;
    this.readyNow();
  }

  private primaryNamed(next: string): void {
    const previous = this.primaryAddress;
    this.primaryAddress = next;
    if (previous === undefined) {
      this.logger.log(`Redis through Sentinel: primary of "${this.options.master}" is ${next}`);
    } else if (previous !== next) {
      this.logger.warn(
        `Redis failover: the Sentinels moved "${this.options.master}" from ${previous} to ${next}; ` +
          'requests use the new primary as soon as it is connected',
      );
      this.movedPrimary({ from: previous, to: next });
    }
  }

  /** The primary the first answering Sentinel names; logs each Sentinel that falls silent or answers again. */
  private named(answers: readonly SentinelAnswer[]): RedisNodeAddress | undefined {
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
}

/** Why no primary could be named, for `/health` and the outage line. */
function nonePrimary(answers: readonly SentinelAnswer[]): string {
  const failed = answers.filter((answer) => answer.error !== undefined);
  return failed.length === answers.length
    ? `none of the Sentinels answered (${failed.map((answer) => `${nodeAddress(answer.node)}: ${answer.error}`).join('; ')})`
    : 'the Sentinels name no primary for this master (is REDIS_SENTINEL_MASTER right?)';
}

/**
 * The node's role (`master`, `slave`, …) from `ROLE`. A user whose ACL refuses `ROLE` takes the
 * Sentinels at their word; any other failure is the node's.
 */
async function roleOf(client: RedisClientType): Promise<string> {
  try {
    const reply = (await client.sendCommand(['ROLE'])) as unknown as unknown[];
    return String(reply[0]);
  } catch (error) {
    if (reasonOf(error).startsWith('NOPERM')) return 'master';
    throw error;
  }
}
