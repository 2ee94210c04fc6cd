import { isIP } from 'node:net';

/**
 * Decides whether an outbound webhook may connect to an address. Callback URLs are supplied by
 * API callers, so without this check they could make the dispatcher reach loopback services,
 * the cloud metadata endpoint or anything else inside our network (SSRF).
 */

type Cidr4 = readonly [base: string, prefixLength: number];

// Special-purpose IPv4 blocks (RFC 6890 and friends) that are never a legitimate public receiver.
const FORBIDDEN_IPV4_BLOCKS: readonly Cidr4[] = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 connects to localhost on Linux
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT, often internal in clouds
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, includes 169.254.169.254 cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast 255.255.255.255
];

const IPV4_BLOCKS = FORBIDDEN_IPV4_BLOCKS.map(([base, prefixLength]) => {
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return { network: (ipv4ToNumber(base) & mask) >>> 0, mask };
});

/**
 * True when a production server must never open a connection to `ip`. Anything that is not a
 * valid IP literal is also reported as forbidden: this is a safety check, so it fails closed.
 * Accepts bracketed IPv6 (`[::1]`) and zone ids (`fe80::1%eth0`) as they appear in URLs and
 * resolver output.
 */
export function isForbiddenAddress(ip: string): boolean {
  const candidate = withoutZoneId(withoutBrackets(ip.trim()));
  switch (isIP(candidate)) {
    case 4:
      return isForbiddenIPv4(ipv4ToNumber(candidate));
    case 6:
      return isForbiddenIPv6(ipv6ToGroups(candidate));
    default:
      return true;
  }
}

function isForbiddenIPv4(address: number): boolean {
  return IPV4_BLOCKS.some(({ network, mask }) => ((address & mask) >>> 0) === network);
}

function isForbiddenIPv6(groups: readonly number[]): boolean {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups;
  const embeddedIPv4 = ((g6 << 16) | g7) >>> 0;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;

  // Forms that carry an IPv4 address: the kernel (or a NAT64/6to4 gateway) ends up talking to
  // that IPv4 host, so the embedded address is what must be judged. `::ffff:127.0.0.1` would
  // otherwise be an easy way around the IPv4 list.
  if (firstFiveZero && g5 === 0xffff) return isForbiddenIPv4(embeddedIPv4); // mapped ::ffff:0:0/96
  if (firstFiveZero && g5 === 0) {
    // Unspecified (::) and loopback (::1) sit inside the deprecated IPv4-compatible ::/96 block;
    // they are named here because their "embedded IPv4" reading would only be forbidden by luck.
    if (g6 === 0 && (g7 === 0 || g7 === 1)) return true;
    return isForbiddenIPv4(embeddedIPv4); // IPv4-compatible ::a.b.c.d
  }
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) {
    return isForbiddenIPv4(embeddedIPv4); // SIIT-translated ::ffff:0:a.b.c.d (RFC 2765)
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return isForbiddenIPv4(embeddedIPv4); // well-known NAT64 prefix 64:ff9b::/96
  }
  if (g0 === 0x2002) return isForbiddenIPv4(((g1 << 16) | g2) >>> 0); // 6to4 2002:a.b.c.d::/48
  // Local-use NAT64 64:ff9b:1::/48 (RFC 8215): the translator is a site's own, and where it puts
  // the IPv4 address depends on its prefix length, so no embedded address can be judged.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return true;
  // Teredo 2001::/32 tunnels to an IPv4 host that an obfuscated field names: refused outright.
  if (g0 === 0x2001 && g1 === 0) return true;

  if ((g0 & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return true; // deprecated site-local fec0::/10, still routed internally
  if ((g0 & 0xff00) === 0xff00) return true; // multicast ff00::/8
  return false;
}

/** `a.b.c.d` → unsigned 32-bit number. Only called on strings `isIP` accepted as IPv4. */
function ipv4ToNumber(dotted: string): number {
  const octets = dotted.split('.').map((octet) => Number.parseInt(octet, 10));
  return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}

/**
 * Expands an IPv6 literal `isIP` accepted as family 6 into its eight 16-bit groups, resolving
 * the `::` run and a trailing dotted-quad (`::ffff:1.2.3.4`).
 */
function ipv6ToGroups(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headGroups = parseGroupList(head);
  if (tail === undefined) return headGroups;
  const tailGroups = parseGroupList(tail);
  const zeroRun = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  return [...headGroups, ...zeroRun, ...tailGroups];
}

function parseGroupList(list: string): number[] {
  if (list === '') return [];
  return list.split(':').flatMap((group) => {
    if (group.includes('.')) {
      const embedded = ipv4ToNumber(group);
      return [embedded >>> 16, embedded & 0xffff];
    }
    return [Number.parseInt(group, 16)];
  });
}

function withoutBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function withoutZoneId(address: string): string {
  const zoneStart = address.indexOf('%');
  return zoneStart === -1 ? address : address.slice(0, zoneStart);
}
