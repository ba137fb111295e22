import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

/** One Redis command as the proxy passed it on. */
export interface ForwardedCommand {
  /** The command's name in capitals (`GET`, `SET`, …). */
  readonly name: string;
  /** Its first argument (the key, for `GET` and `SET`). */
  readonly key: string | undefined;
}

/**
 * A TCP proxy on loopback in front of Redis that holds every command for `delayMs` before passing
 * it on (so every round trip through it takes at least that long), and lists the commands it has
 * passed on, in order. The commands are read from the RESP arrays clients send.
 */
export interface SlowRedisProxy {
  readonly port: number;
  /** The commands passed on to Redis so far. */
  readonly forwarded: readonly ForwardedCommand[];
  close(): Promise<void>;
}

/** Reads complete RESP arrays of bulk strings from a byte stream, as `[name, ...args]`. */
class RespCommandReader {
  private buffer = Buffer.alloc(0);

  read(chunk: Buffer): string[][] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const commands: string[][] = [];
    for (;;) {
      const parsed = this.parseOne();
      if (!parsed) return commands;
      commands.push(parsed.parts);
      this.buffer = this.buffer.subarray(parsed.end);
    }
  }

  private parseOne(): { parts: string[]; end: number } | undefined {
    const line = (from: number) => {
      const end = this.buffer.indexOf('\r\n', from);
      return end === -1 ? undefined : { text: this.buffer.toString('latin1', from, end), next: end + 2 };
    };
    const header = line(0);
    if (!header) return undefined;
    if (!header.text.startsWith('*')) throw new Error(`not a RESP array: ${header.text}`);
    const parts: string[] = [];
    let at = header.next;
    for (let i = 0; i < Number(header.text.slice(1)); i++) {
      const size = line(at);
      if (!size) return undefined;
      const length = Number(size.text.slice(1));
      if (this.buffer.length < size.next + length + 2) return undefined;
      parts.push(this.buffer.toString('utf8', size.next, size.next + length));
      at = size.next + length + 2;
    }
    return { parts, end: at };
  }
}

export async function startSlowRedisProxy(targetHost: string, targetPort: number, delayMs: number): Promise<SlowRedisProxy> {
  const sockets = new Set<Socket>();
  const forwarded: ForwardedCommand[] = [];
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    // As Redis and node-redis do: small commands and replies are not held back by Nagle.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const reader = new RespCommandReader();
    // Timers of one delay fire in the order they were set: the stream keeps its order.
    client.on('data', (chunk: Buffer) => {
      const commands = reader.read(chunk);
      setTimeout(() => {
        if (upstream.destroyed) return;
        for (const [name, key] of commands) forwarded.push({ name: name.toUpperCase(), key });
        upstream.write(chunk);
      }, delayMs);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    forwarded,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
