import type { RedisNodeAddress } from './redis.config.js';
import { reasonOf, withinTime } from './redis.endpoint.js';

/** One Sentinel's answer to "which node is primary of this master?". */
export interface SentinelAnswer {
  readonly node: RedisNodeAddress;
  /** The primary it names; `undefined` when it did not answer or knows none. */
  readonly primary?: RedisNodeAddress;
  /** Why it gave no answer. */
  readonly error?: string;
}

/** Asks every Sentinel at once; each answer comes within the time limit, or as an error. */
export type AskSentinels = (nodes: readonly RedisNodeAddress[]) => Promise<SentinelAnswer[]>;

/** What {@link sentinelAsker} needs: the master's name, the Sentinels' credentials, a time limit. */
export interface AskOptions {
  readonly master: string;
  readonly username?: string;
  readonly password?: string;
  readonly timeoutMs: number;
}

/**
 * Asks Sentinels for the primary with a connection of their own each, bounded as a whole: the
 * connection, its handshake and the one command within `timeoutMs`, or the Sentinel is silent.
 * node-redis's command timeout stops once a command is written, so a Sentinel that accepts and
 * never answers would otherwise hold the question for ever.
 */
export async function sentinelAsker(options: AskOptions): Promise<AskSentinels> {
  const { createClient } = await import('@keyv/redis');
  const askOne = async (node: RedisNodeAddress): Promise<SentinelAnswer> => {
    const client = createClient({
      username: options.username,
      password: options.password,
      disableClientInfo: true,
      socket: { host: node.host, port: node.port, connectTimeout: options.timeoutMs, socketTimeout: options.timeoutMs, reconnectStrategy: false },
    });
    client.on('error', () => undefined);
    const asked = async () => {
      await client.connect();
      return client.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', options.master]);
    };
    try {
      const reply = await withinTime(asked(), options.timeoutMs, 'no answer');
      const [host, port] = (reply ?? []) as unknown as string[];
      return host && port ? { node, primary: { host, port: Number(port) } } : { node };
    } catch (error) {
      return { node, error: reasonOf(error) };
    } finally {
      if (client.isOpen) client.destroy();
    }
  };
  return (nodes) => Promise.all(nodes.map(askOne));
}
