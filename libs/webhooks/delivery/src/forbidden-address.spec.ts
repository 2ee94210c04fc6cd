import { isForbiddenAddress } from './forbidden-address';

describe('isForbiddenAddress', () => {
  describe('IPv4', () => {
    it.each([
      ['0.0.0.0', 'this-network / unspecified'],
      ['0.255.255.255', 'this-network upper edge'],
      ['10.0.0.1', 'private 10/8'],
      ['10.255.255.255', 'private 10/8 upper edge'],
      ['100.64.0.1', 'CGNAT lower edge'],
      ['100.127.255.254', 'CGNAT upper edge'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback upper edge'],
      ['169.254.169.254', 'cloud metadata'],
      ['169.254.0.1', 'link-local'],
      ['172.16.0.1', 'private 172.16/12 lower edge'],
      ['172.31.255.255', 'private 172.16/12 upper edge'],
      ['192.0.0.8', 'IETF protocol assignments'],
      ['192.168.1.1', 'private 192.168/16'],
      ['198.18.0.1', 'benchmarking lower half'],
      ['198.19.255.255', 'benchmarking upper half'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast SSDP'],
      ['240.0.0.1', 'reserved'],
      ['255.255.255.255', 'broadcast'],
    ])('forbids %s (%s)', (address) => {
      expect(isForbiddenAddress(address)).toBe(true);
    });

    it.each([
      ['1.1.1.1', 'public resolver'],
      ['8.8.8.8', 'public resolver'],
      ['9.255.255.255', 'just below 10/8'],
      ['11.0.0.0', 'just above 10/8'],
      ['100.63.255.255', 'just below CGNAT'],
      ['100.128.0.0', 'just above CGNAT'],
      ['126.255.255.255', 'just below loopback'],
      ['128.0.0.0', 'just above loopback'],
      ['169.253.255.255', 'just below link-local'],
      ['169.255.0.0', 'just above link-local'],
      ['172.15.255.255', 'just below 172.16/12'],
      ['172.32.0.0', 'just above 172.16/12'],
      ['192.0.1.1', 'just above 192.0.0/24'],
      ['192.167.255.255', 'just below 192.168/16'],
      ['192.169.0.0', 'just above 192.168/16'],
      ['198.17.255.255', 'just below 198.18/15'],
      ['198.20.0.0', 'just above 198.18/15'],
      ['223.255.255.255', 'just below multicast'],
      ['93.184.216.34', 'ordinary public host'],
    ])('allows %s (%s)', (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    });
  });

  describe('IPv6', () => {
    it.each([
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback, fully written'],
      ['[::1]', 'loopback as written in a URL'],
      ['fc00::1', 'unique local fc00::/8'],
      ['fd12:3456:789a::1', 'unique local fd00::/8'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local with zone id'],
      ['febf:ffff::1', 'link-local upper edge'],
      ['fec0::1', 'deprecated site-local'],
      ['ff02::1', 'multicast all-nodes'],
      ['ff05::1:3', 'multicast site-local'],
      ['FE80::ABCD', 'upper-case link-local'],
    ])('forbids %s (%s)', (address) => {
      expect(isForbiddenAddress(address)).toBe(true);
    });

    it.each([
      ['2606:4700:4700::1111', 'public resolver'],
      ['2001:4860:4860::8888', 'public resolver'],
      ['fbff:ffff::1', 'just below fc00::/7'],
      ['fe00::1', 'between unique local and link-local'],
      ['2001:db8::1', 'documentation range is not on the refusal list'],
    ])('allows %s (%s)', (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    });
  });

  describe('IPv6 forms that embed an IPv4 address are judged by that address', () => {
    it.each([
      ['::ffff:127.0.0.1', 'mapped loopback, dotted'],
      ['::ffff:7f00:1', 'mapped loopback, hex'],
      ['::FFFF:7F00:0001', 'mapped loopback, upper-case hex with leading zeros'],
      ['0:0:0:0:0:ffff:a9fe:a9fe', 'mapped metadata address, fully written'],
      ['::ffff:10.1.2.3', 'mapped private'],
      ['::ffff:192.168.0.1', 'mapped private'],
      ['::127.0.0.1', 'IPv4-compatible loopback'],
      ['::a00:1', 'IPv4-compatible private, hex'],
      ['::2', 'IPv4-compatible 0.0.0.2, inside 0.0.0.0/8'],
      ['::ffff:0:127.0.0.1', 'SIIT-translated loopback'],
      ['64:ff9b::127.0.0.1', 'NAT64 loopback'],
      ['64:ff9b::a9fe:a9fe', 'NAT64 metadata, hex'],
      ['64:ff9b::10.0.0.1', 'NAT64 private'],
      ['2002:7f00:1::', '6to4 loopback'],
      ['2002:c0a8:101::1', '6to4 private'],
    ])('forbids %s (%s)', (address) => {
      expect(isForbiddenAddress(address)).toBe(true);
    });

    it.each([
      ['::ffff:8.8.8.8', 'mapped public'],
      ['::ffff:808:808', 'mapped public, hex'],
      ['::8.8.8.8', 'IPv4-compatible public'],
      ['64:ff9b::8.8.8.8', 'NAT64 public'],
      ['64:ff9b::101:101', 'NAT64 public, hex'],
      ['2002:808:808::1', '6to4 public'],
    ])('allows %s (%s)', (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    });

    it('refuses the local-use NAT64 prefix 64:ff9b:1::/48 and Teredo 2001::/32 whatever they embed', () => {
      for (const address of ['64:ff9b:1::7f00:1', '64:ff9b:1:ffff::808:808', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001::1']) {
        expect(isForbiddenAddress(address)).toBe(true);
      }
      // Neighbours stay allowed: a NAT64-looking prefix outside both, and public 2001: space.
      expect(isForbiddenAddress('64:ff9b:2::7f00:1')).toBe(false);
      expect(isForbiddenAddress('2001:4860:4860::8888')).toBe(false);
      expect(isForbiddenAddress('2001:1::1')).toBe(false);
    });
  });

  describe('inputs that are not IP literals fail closed', () => {
    it.each(['', 'localhost', 'example.com', '127.1', '010.0.0.1', '256.0.0.1', '1.2.3', ':::1', '::ffff:1.2.3.4.5'])(
      'treats %j as forbidden',
      (input) => {
        expect(isForbiddenAddress(input)).toBe(true);
      },
    );
  });
});
