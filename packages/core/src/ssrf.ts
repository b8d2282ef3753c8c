import { BlockList, isIP } from 'node:net';

/**
 * Addresses a fetch must not reach unless the caller allows private networks: loopback,
 * private, link-local, CGNAT, multicast, reserved, documentation ranges.
 * Deliberately NOT blocked: 198.18.0.0/15 and fc00::/18, the fake-IP ranges of
 * Clash/mihomo/sing-box; under TUN mode every public name resolves there.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}
// fc00::/7 (unique local) is private, except fc00::/18 which fake-IP DNS hands out.
const uniqueLocal = new BlockList();
uniqueLocal.addSubnet('fc00::', 7, 'ipv6');
const fakeIpV6 = new BlockList();
fakeIpV6.addSubnet('fc00::', 18, 'ipv6');

/**
 * Whether `address` (an IP literal, any spelling `net.isIP` accepts, brackets and a zone id
 * allowed) is private/loopback/link-local/reserved. IPv6 addresses that carry an IPv4 address are
 * judged by that IPv4 address (see `embeddedIPv4`); the local-use NAT64 prefix `64:ff9b:1::/48`
 * is private as a whole (docs/decisions.md D21).
 */
export function isPrivateAddress(address: string): boolean {
  const bracketed = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // A zone id (`fe80::1%eth0`) names an interface, not a different address.
  // Stryker disable next-line MethodExpression: BlockList.check and expandIPv6 ignore a zone id as well; the strip states the rule instead of relying on them.
  const ip = bracketed.includes('%') ? bracketed.slice(0, bracketed.indexOf('%')) : bracketed;
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family !== 6) return false;
  if (localUseNat64.check(ip, 'ipv6')) return true;
  const embedded = embeddedIPv4(ip);
  if (embedded !== undefined) return isPrivateAddress(embedded);
  if (blocked.check(ip, 'ipv6')) return true;
  return uniqueLocal.check(ip, 'ipv6') && !fakeIpV6.check(ip, 'ipv6');
}

/**
 * RFC 8215 local-use NAT64 prefix: where the IPv4 address sits in it (/48 … /96 embedding) is the
 * local network's choice, so no single reading is sound (10.0.0.1 under a /64 embedding reads as
 * 1.0.0.0 at the /96 position); IANA lists it as not globally reachable.
 */
const localUseNat64 = new BlockList();
localUseNat64.addSubnet('64:ff9b:1::', 48, 'ipv6');

/**
 * The IPv4 address an IPv6 address carries, when it is one of: IPv4-mapped `::ffff:0:0/96` (it
 * *is* that IPv4 address to the socket layer), SIIT IPv4-translated `::ffff:0:0:0/96`,
 * IPv4-compatible `::a.b.c.d` (deprecated), the NAT64 well-known prefix `64:ff9b::/96` (RFC 6052:
 * the translator connects to the embedded IPv4), and 6to4 `2002::/16`.
 */
export function embeddedIPv4(ip: string): string | undefined {
  const words = expandIPv6(ip);
  if (!words) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  if (zeros(0, 5) && words[5] === 0xffff) return v4(words[6]!, words[7]!);
  if (zeros(0, 4) && words[4] === 0xffff && words[5] === 0) return v4(words[6]!, words[7]!);
  if (zeros(0, 6) && (words[6] !== 0 || words[7]! > 1)) return v4(words[6]!, words[7]!);
  if (words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6)) return v4(words[6]!, words[7]!);
  if (words[0] === 0x2002) return v4(words[1]!, words[2]!);
  return undefined;
}

function expandIPv6(ip: string): number[] | undefined {
  let text = ip.split('%')[0]!;
  // Stryker disable next-line LogicalOperator,StringLiteral: a lone `[` or `]` fails the word check below whether or not this strips it.
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1]!.split('.').map(Number);
    const hex = `${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
    text = text.slice(0, -dotted[1]!.length) + hex;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  // A word is 1-4 hex digits (`parseInt` alone would read `1.2.3` or `1g` as 1).
  const parse = (s: string | undefined) =>
    s ? s.split(':').map((h) => (/^[0-9a-f]{1,4}$/i.test(h) ? Number.parseInt(h, 16) : Number.NaN)) : [];
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const words = [...left, ...new Array(Math.max(fill, 0)).fill(0), ...right];
  return words.length === 8 && !words.some(Number.isNaN) ? words : undefined;
}
