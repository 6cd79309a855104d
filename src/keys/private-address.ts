import { BlockList, isIP } from 'node:net';

/**
 * Whether an address is one a `jwks_uri` must not reach (unless JWKS_URI_ALLOW_PRIVATE): private,
 * loopback, link-local, shared, multicast, reserved — so registering a jwks_uri is no lever to
 * make this server fetch from inside its network (SSRF). IPv6 forms that carry an IPv4 address
 * are judged by that address: NAT64 (64:ff9b::/96, RFC 6052) and 6to4 (2002::/16, RFC 3056); the
 * IPv4-mapped (::ffff:0:0/96) and deprecated IPv4-compatible (::/96, RFC 4291 §2.5.5.1) forms,
 * local-use NAT64 (64:ff9b:1::/48, RFC 8215) and Teredo (2001::/32, RFC 4380) are refused whole.
 *
 * IPv4 and IPv6 rules live in separate lists: node's BlockList matches an IPv4 address against
 * IPv6 rules through its IPv4-mapped form, so ::ffff:0:0/96 in a shared list would make every
 * IPv4 address "private".
 */

const PRIVATE_V4 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE_V4.addSubnet(net, prefix, 'ipv4');
}

const PRIVATE_V6 = new BlockList();
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible
  ['::ffff:0:0', 96], // IPv4-mapped: a URL or DNS answer has no reason to use one
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard-only
  ['2001::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE_V6.addSubnet(net, prefix, 'ipv6');
}

/** Each IPv4-carrying form, and where it keeps the IPv4 address: the index of its first 16-bit group. */
const EMBEDDING: readonly { form: BlockList; group: number }[] = (
  [
    ['64:ff9b::', 96, 6],
    ['2002::', 16, 1],
  ] as const
).map(([prefix, length, group]) => {
  const form = new BlockList();
  form.addSubnet(prefix, length, 'ipv6');
  return { form, group };
});

/** The eight 16-bit groups of a valid IPv6 address (zone already removed). */
function groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const [left, right] = text.split('::');
  const head = parse(left);
  if (right === undefined) return head;
  const tail = parse(right);
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** The IPv4 address an IPv6 address carries, for the forms in EMBEDDING. */
function embeddedIpv4(address: string): string | undefined {
  for (const e of EMBEDDING) {
    if (!e.form.check(address, 'ipv6')) continue;
    const g = groups(address);
    const hi = g[e.group] ?? 0;
    const lo = g[e.group + 1] ?? 0;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** True for an address a jwks_uri must not reach, and for anything that is not an IP address. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return PRIVATE_V4.check(bare, 'ipv4');
  if (family !== 6) return true;
  if (PRIVATE_V6.check(bare, 'ipv6')) return true;
  const v4 = embeddedIpv4(bare);
  return v4 !== undefined && PRIVATE_V4.check(v4, 'ipv4');
}
