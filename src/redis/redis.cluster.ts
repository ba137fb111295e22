import { Logger } from '@nestjs/common';
import type { RedisClusterType } from '@keyv/redis';
import type { RedisNodeAddress } from './redis.config.js';
import { COMMAND_OPTIONS, nodeAddress, reasonOf, RedisEndpoint, type RedisCommands } from './redis.endpoint.js';

// A node that does not connect within this is given up; one that stays away is closed after
// NODE_RECONNECTS tries, so commands for its slots fail at once instead of waiting.
const NODE_CONNECT_TIMEOUT_MS = 1000;
const NODE_RECONNECTS = 3;
const CLUSTER_SLOTS = 16384;

/** Closes a cluster client at once; node-redis throws for each of its node connections already closed. */
function destroy(cluster: RedisClusterType): void {
  try {
    cluster.destroy();
  } catch {
    // Closed already.
  }
}

function everySlotAssigned(cluster: RedisClusterType): boolean {
  const slots = (cluster as unknown as { slots: unknown[] }).slots;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (!slots[slot]) return false;
  return true;
}

/** What {@link clusterClients} needs from the Redis configuration. */
export interface ClusterOptions {
  readonly username?: string;
  readonly password?: string;
}

/**
 * A maker of node-redis's cluster client (`createCluster`), not yet connected, that learns the
 * cluster from the given nodes. Every command goes to the primary of its key's slot: a replica
 * may lag, and is never written to.
 */
export async function clusterClients(options: ClusterOptions): Promise<(seeds: readonly RedisNodeAddress[]) => RedisClusterType> {
  // Loaded only when configured: the client is a few hundred modules of start-up and memory.
  const { createCluster } = await import('@keyv/redis');
  return (seeds) =>
    createCluster({
      rootNodes: seeds.map(({ host, port }) => ({ socket: { host, port } })),
      defaults: {
        username: options.username,
        password: options.password,
        ...COMMAND_OPTIONS,
        socket: {
          connectTimeout: NODE_CONNECT_TIMEOUT_MS,
          reconnectStrategy: (attempt: number) => (attempt >= NODE_RECONNECTS ? false : Math.min(100 * 2 ** attempt, 1000)),
        },
      },
      useReplicas: false,
    }) as unknown as RedisClusterType;
}

/** What the cluster endpoint needs besides node-redis's client. */
export interface ClusterEndpointOptions {
  readonly seeds: readonly RedisNodeAddress[];
  /** How often a primary that is away is looked for again. */
  readonly intervalMs: number;
  /** A new node-redis cluster client learning the cluster from these nodes. */
  readonly create: (seeds: readonly RedisNodeAddress[]) => RedisClusterType;
}

interface SlotNode {
  readonly host: string;
  readonly port: number;
  readonly client?: { readonly isReady: boolean };
}

/**
 * A Redis Cluster (`REDIS_CLUSTER_NODES`), through node-redis's own cluster client: each key goes
 * to the primary of its slot, so the shared tier spreads over the shards, and a rate-limit
 * counter (one key, one slot) stays on one.
 *
 * A primary that goes away is given up after a few reconnections: commands for its slots then
 * fail at once (a missing Redis for those keys), and the other shards keep serving. node-redis
 * learns a new primary only from a `MOVED` reply, which a dead primary never sends; so while any
 * primary is away, a new client learns the cluster every `intervalMs` in the background, and
 * replaces the one in use once it has connected to every primary (after the promotion). Each
 * slot range whose primary changed is a failover: logged once with both addresses.
 */
export class ClusterEndpoint extends RedisEndpoint {
  readonly via = 'cluster';
  readonly primary = undefined;
  private readonly logger = new Logger('Redis');
  private cluster: RedisClusterType;
  private connected = false;
  /** Every slot has a primary in the map node-redis learned (a new, empty node may have none). */
  private complete = false;
  private relearning = false;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** Primaries whose connection failed, each logged once until it is back or replaced. */
  private readonly away = new Set<string>();

  constructor(private readonly options: ClusterEndpointOptions) {
    super();
    this.cluster = this.watch(options.create(options.seeds));
  }

  get commands(): RedisCommands {
    return this.cluster as unknown as RedisCommands;
  }

  get ready(): boolean {
    return this.connected && this.complete && this.masters().some((node) => node.client?.isReady);
  }

  override details(): Record<string, unknown> {
    const masters = this.masters();
    return {
      nodes: masters.map((node) => ({ address: nodeAddress(node), connected: node.client?.isReady ?? false })),
      slotsCovered: this.connected && this.everySlotServed(),
    };
  }

  connect(): void {
    if (this.closing) return;
    const cluster = this.cluster;
    cluster.connect().then(
      () => {
        this.connected = true;
        this.complete = this.everySlotAssigned();
        if (!this.closing && this.complete) this.readyNow();
      },
      (error: unknown) => {
        // No seed answered: a new client tries again, so the service joins whenever they come.
        this.unreachable(error);
        this.retryTimer = setTimeout(() => {
          if (this.closing || cluster !== this.cluster) return;
          this.cluster = this.watch(this.options.create(this.options.seeds));
          this.connect();
        }, this.options.intervalMs);
        this.retryTimer.unref();
      },
    );
    if (this.timer) return;
    this.timer = setInterval(() => void this.relearn(), this.options.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    if (!this.cluster.isOpen) return;
    await this.cluster.close().catch(() => this.cluster.destroy());
  }

  private watch(cluster: RedisClusterType): RedisClusterType {
    // Without listeners node-redis's 'error' events would throw.
    cluster.on('error', (error: unknown) => cluster === this.cluster && !this.connected && this.unreachable(error));
    cluster.on('node-error', (error: unknown, node: { host: string; port: number }) => {
      if (cluster !== this.cluster) return;
      const address = nodeAddress(node);
      this.logger.debug(`Redis cluster node ${address}: ${reasonOf(error)}`);
      // A node known to the map going away is a shard outage: once per node until it is back.
      if (!this.connected || this.away.has(address) || !this.masters().some((master) => nodeAddress(master) === address)) return;
      this.away.add(address);
      this.logger.warn(`Redis cluster node ${address} unreachable (${reasonOf(error)}); its slots go without Redis until it is back or replaced`);
    });
    cluster.on('node-ready', (node: { host: string; port: number }) => {
      if (cluster === this.cluster && this.away.delete(nodeAddress(node))) this.logger.log(`Redis cluster node ${nodeAddress(node)} is back`);
    });
    return cluster;
  }

  /** While a primary is away, a new client learns the cluster; it replaces this one once every primary answers. */
  private async relearn(): Promise<void> {
    if (this.closing || this.relearning || !this.connected) return;
    if (this.complete && this.masters().every((node) => node.client?.isReady)) return;
    this.relearning = true;
    const known = this.masters().map(({ host, port }) => ({ host, port }));
    const next = this.options.create([...known, ...this.options.seeds]);
    next.on('error', () => undefined);
    next.on('node-error', () => undefined);
    try {
      await next.connect();
      if (!everySlotAssigned(next)) throw new Error('slots without a primary');
    } catch {
      // Not every primary is reachable yet: the next check tries again.
      this.relearning = false;
      destroy(next);
      return;
    }
    this.relearning = false;
    if (this.closing) {
      destroy(next);
      return;
    }
    const before = this.slots();
    const old = this.cluster;
    next.removeAllListeners();
    this.cluster = this.watch(next);
    this.reportMoves(before, this.slots());
    this.away.clear();
    this.complete = true;
    destroy(old);
    this.readyNow();
  }

  private reportMoves(before: ReadonlyArray<{ master: SlotNode } | undefined>, after: ReadonlyArray<{ master: SlotNode } | undefined>): void {
    const moves = new Map<string, { from: string; to: string; first: number; last: number }>();
    after.forEach((slot, index) => {
      const from = before[index]?.master;
      if (!slot || !from) return;
      const pair = { from: nodeAddress(from), to: nodeAddress(slot.master) };
      if (pair.from === pair.to) return;
      const key = `${pair.from}>${pair.to}`;
      const move = moves.get(key);
      if (move) move.last = index;
      else moves.set(key, { ...pair, first: index, last: index });
    });
    for (const { from, to, first, last } of moves.values()) {
      this.logger.warn(`Redis failover: the cluster moved slots ${first}-${last} from ${from} to ${to}; requests use the new primary now`);
      this.movedPrimary({ from, to });
    }
  }

  private everySlotAssigned(): boolean {
    return everySlotAssigned(this.cluster);
  }

  private everySlotServed(): boolean {
    const slots = this.slots();
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (!slots[slot]?.master.client?.isReady) return false;
    return true;
  }

  private masters(): readonly SlotNode[] {
    return (this.cluster as unknown as { masters: SlotNode[] }).masters;
  }

  private slots(): ReadonlyArray<{ master: SlotNode } | undefined> {
    return (this.cluster as unknown as { slots: Array<{ master: SlotNode } | undefined> }).slots;
  }
}
