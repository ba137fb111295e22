import fc from 'fast-check';
import { clientAddress } from './client-address.js';

const from = (ip: string, peer = '10.1.2.3') => clientAddress({ ip, socket: { remoteAddress: peer } });

describe('clientAddress', () => {
  it.each([
    ['an IPv4 address', '203.0.113.7', '203.0.113.7'],
    ['an IPv6 address', '2001:db8::1', '2001:db8::1'],
    ['an IPv4-mapped IPv6 address', '::ffff:203.0.113.7', '::ffff:203.0.113.7'],
    ['junk', 'not-an-ip', '10.1.2.3'],
    ['8 KB of junk', 'x'.repeat(8192), '10.1.2.3'],
    ['an octet out of range', '10.0.0.300', '10.1.2.3'],
    ['an address with a port', '203.0.113.7:8080', '10.1.2.3'],
    ['an empty value', '', '10.1.2.3'],
    ['a list Fastify did not split', '198.51.100.1, 203.0.113.7', '10.1.2.3'],
  ])('keys %s as %s', (_name, ip, key) => {
    expect(from(ip)).toBe(key);
  });

  it('never keys by a string longer than an IPv6 address, whatever the header says', () => {
    fc.assert(fc.property(fc.string({ maxLength: 10_000 }), (ip) => from(ip).length <= 45));
  });
});
