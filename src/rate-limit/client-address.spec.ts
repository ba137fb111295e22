import fc from 'fast-check';
import { addressKey, clientAddress } from './client-address.js';

const from = (ip: string, peer = '10.1.2.3', prefix = 64) => clientAddress({ ip, socket: { remoteAddress: peer } }, prefix);

describe('clientAddress', () => {
  it.each([
    ['an IPv4 address', '203.0.113.7', '203.0.113.7'],
    ['an IPv6 address, by its /64', '2001:db8::1', '2001:db8::/64'],
    ['junk', 'not-an-ip', '10.1.2.3'],
    ['8 KB of junk', 'x'.repeat(8192), '10.1.2.3'],
    ['an octet out of range', '10.0.0.300', '10.1.2.3'],
    ['a short IPv4 form', '127.1', '10.1.2.3'],
    ['an IPv4 address with leading zeros', '198.051.100.009', '10.1.2.3'],
    ['an address with a port', '203.0.113.7:8080', '10.1.2.3'],
    ['an empty value', '', '10.1.2.3'],
    ['a list Fastify did not split', '198.51.100.1, 203.0.113.7', '10.1.2.3'],
    ['a zone ID with an address too long before it', `${'0'.repeat(60)}::1%eth0`, '10.1.2.3'],
  ])('keys %s as %s', (_name, ip, key) => {
    expect(from(ip)).toBe(key);
  });

  it('keys by the connection peer, written the same way, when the header is no address', () => {
    expect(from('junk', '::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(from('junk', '2001:db8:0:0:1::7')).toBe('2001:db8::/64');
    expect(clientAddress({ ip: 'junk', socket: {} }, 64)).toBe('unknown');
  });

  it('never keys by a string longer than an IPv6 prefix, whatever the header says', () => {
    fc.assert(fc.property(fc.string({ maxLength: 10_000 }), (ip) => from(ip).length <= 48));
  });
});

describe('addressKey: one sender, one key', () => {
  it.each([
    ['::1', ['::1', '0:0:0:0:0:0:0:1', '::0:1', '0000::0001', '0::1', '::0001', '0:0::1', '0:0:0:0:0:0::1', '::0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001'], '::/64'],
    [
      '198.51.100.9 in its IPv4-mapped spellings',
      ['198.51.100.9', '::ffff:198.51.100.9', '::FFFF:198.51.100.9', '::ffff:c633:6409', '0:0:0:0:0:ffff:198.51.100.9', '0:0:0:0:0:FFFF:C633:6409', '::ffff:C633:6409', '0000:0000:0000:0000:0000:ffff:c633:6409'],
      '198.51.100.9',
    ],
    ['fe80::1 with any zone ID', ['fe80::1', 'fe80::1%eth0', 'fe80::1%25eth0', 'fe80::1%1', `fe80::1%${'z'.repeat(5000)}`, 'fe80::1%'], 'fe80::/64'],
    ['2001:db8:1:2::/64, whatever the interface ID', ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:DB8:1:2:a:b:c:d', '2001:0db8:0001:0002::42'], '2001:db8:1:2::/64'],
  ])('%s', (_name, spellings, key) => {
    expect(spellings.map((spelling) => addressKey(spelling, 64))).toEqual(spellings.map(() => key));
  });

  it.each([
    [128, '2001:db8:1:2::1', '2001:db8:1:2::1'],
    [56, '2001:db8:1:2ff::1', '2001:db8:1:200::/56'],
    [48, '2001:db8:1:2::1', '2001:db8:1::/48'],
    [48, '198.51.100.9', '198.51.100.9'],
  ])('with a /%i prefix keys %s as %s', (prefix, address, key) => {
    expect(addressKey(address, prefix)).toBe(key);
  });

  it('tells apart addresses of different /64s and different IPv4 addresses', () => {
    expect(addressKey('2001:db8:1:2::1', 64)).not.toBe(addressKey('2001:db8:1:3::1', 64));
    expect(addressKey('198.51.100.9', 64)).not.toBe(addressKey('198.51.100.10', 64));
  });
});
