import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** The longest textual IP address: an IPv6 address ending in a dotted IPv4 one. */
const MAX_ADDRESS_LENGTH = 45;

/** A request as far as {@link clientAddress} reads it: Fastify's `ip` and the connection's peer. */
export interface AddressedRequest {
  ip: string;
  socket: { remoteAddress?: string };
}

/**
 * One key per sender, whatever the spelling: an IPv4 address in dotted decimal (an IPv4-mapped
 * IPv6 address is its IPv4 address); an IPv6 address reduced to its first `ipv6PrefixLength` bits
 * and written compressed with the prefix (`2001:db8:1:2::/64`), since one host is routinely given
 * a whole /64 and picks any address of it. A zone ID (`fe80::1%eth0`) names an interface of the
 * sender's own host, not another sender, so it is dropped. Anything that is not an address in
 * standard notation (Node's `isIP`: no `127.1`, no leading zeros) gives `undefined`.
 */
export function addressKey(text: string, ipv6PrefixLength: number): string | undefined {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  if (address.length > MAX_ADDRESS_LENGTH || isIP(address) === 0) return undefined;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const ipv6 = parsed as ipaddr.IPv6;
  if (ipv6.isIPv4MappedAddress()) return ipv6.toIPv4Address().toString();
  if (ipv6PrefixLength === 128) return ipv6.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${ipv6.toString()}/${ipv6PrefixLength}`).toString()}/${ipv6PrefixLength}`;
}

/**
 * The key a client's requests are counted under: the address `TRUST_PROXY_HOPS` proxies report
 * in `X-Forwarded-For` (Fastify's `request.ip`) when it is an IP address, else the connection's
 * peer, each as {@link addressKey} writes it. A header is any string a client likes; only an
 * address in one spelling keeps each key short and makes one sender one key.
 */
export function clientAddress(request: AddressedRequest, ipv6PrefixLength: number): string {
  return addressKey(request.ip, ipv6PrefixLength) ?? addressKey(request.socket.remoteAddress ?? '', ipv6PrefixLength) ?? 'unknown';
}
