import { isIP } from 'node:net';

/**
 * The address a client's requests are counted under: the one `TRUST_PROXY_HOPS` proxies report
 * in `X-Forwarded-For` (Fastify's `request.ip`) when it is an IP address, else the connection's
 * peer. A header is any string a client likes; only an address keeps each key short and makes
 * one sender one key.
 */
export function clientAddress(request: { ip: string; socket: { remoteAddress?: string } }): string {
  return isIP(request.ip) !== 0 ? request.ip : (request.socket.remoteAddress ?? 'unknown');
}
