/**
 * Which webhook URLs we accept and which addresses we will connect to.
 *
 * Webhook URLs are user input that makes our server issue requests (SSRF). Two gates:
 * `validateWebhookUrl` when the URL is configured (clear errors for the user), and
 * `isForbiddenAddress` on the resolved IP right before connecting (webhook-http.ts), because
 * a hostname can resolve to anything and change between checks (DNS rebinding).
 * `allowPrivateNetworks` (the operator setting WEBHOOKS_ALLOW_PRIVATE_NETWORKS) lifts the
 * address gate for self-hosters whose receivers live on their own network.
 */
import { BlockList, isIP } from 'node:net';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Ranges that are never the public Internet. Sources: IANA special-purpose registries (RFC 6890). */
const IPV4_FORBIDDEN: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network", includes the unspecified 0.0.0.0
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, includes cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (includes some metadata endpoints, e.g. 192.0.0.192)
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast 255.255.255.255
];

/**
 * IPv6 ranges inside global unicast 2000::/3; everything outside 2000::/3 (loopback,
 * unspecified, unique local fc00::/7 with AWS metadata fd00:ec2::254, link-local fe80::/10,
 * multicast ff00::/8, ...) is refused by `isForbiddenAddress` before this list is consulted.
 * The IPv4-embedding formats (::ffff:0:0/96, 64:ff9b::/96, 2002::/16, ::/96) are judged by
 * their embedded IPv4 address instead, so ::ffff:8.8.8.8 stays allowed while
 * ::ffff:127.0.0.1 is refused.
 */
const IPV6_FORBIDDEN: ReadonlyArray<readonly [string, number]> = [
  ['2001::', 23], // IETF protocol assignments, includes Teredo 2001::/32 which tunnels to hidden IPv4
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
];

/**
 * One list per family: Node's BlockList matches IPv4 addresses against IPv4-mapped IPv6
 * rules and vice versa, and keeping them apart keeps each rule meaning only what it says.
 */
function buildBlockList(family: 'ipv4' | 'ipv6', ranges: ReadonlyArray<readonly [string, number]>): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of ranges) list.addSubnet(net, prefix, family);
  return list;
}

const forbiddenV4 = buildBlockList('ipv4', IPV4_FORBIDDEN);
const forbiddenV6 = buildBlockList('ipv6', IPV6_FORBIDDEN);

/** Parses an IPv6 address (with `::`, an optional trailing dotted quad, no zone) into 8 groups. */
function parseIpv6Groups(address: string): number[] | undefined {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    // Rewrite a trailing dotted quad (::ffff:127.0.0.1) as two hex groups (::ffff:7f00:1).
    if (isIP(maybeV4) !== 4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = maybeV4.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = toGroups(halves[0]);
  const rest = halves.length === 2 ? toGroups(halves[1]) : [];
  const explicit = head.length + rest.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  if ([...head, ...rest].some((g) => Number.isNaN(g))) return undefined;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
}

function groupsToIpv4(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The IPv4 address an IPv6 address carries, for the transition formats that route to one. */
function embeddedIpv4(groups: readonly number[]): string | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroUpTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  // ::ffff:a.b.c.d (IPv4-mapped): the socket really connects over IPv4.
  if (zeroUpTo(5) && g5 === 0xffff) return groupsToIpv4(g6, g7);
  // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765).
  if (zeroUpTo(4) && g4 === 0xffff && g5 === 0) return groupsToIpv4(g6, g7);
  // ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 fall to the 2000::/3 rule instead.
  if (zeroUpTo(6) && (g6 !== 0 || g7 > 1)) return groupsToIpv4(g6, g7);
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix): a NAT64 gateway forwards it to the IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return groupsToIpv4(g6, g7);
  // 2002:AABB:CCDD::/48 (6to4): the relay forwards it to AA.BB.CC.DD.
  if (g0 === 0x2002) return groupsToIpv4(g1, g2);
  return undefined;
}

/**
 * True when `ip` must not be connected to: loopback, unspecified, private, link-local (cloud
 * metadata), CGNAT, multicast, broadcast, reserved and documentation ranges, and IPv6 forms that
 * embed such an IPv4 address. Anything that is not a valid IP literal counts as forbidden, so a
 * parsing surprise fails closed.
 */
export function isForbiddenAddress(ip: string, options: { allowPrivateNetworks?: boolean } = {}): boolean {
  if (options.allowPrivateNetworks === true) return false;
  // A zone index (fe80::1%eth0) only exists on link-local addresses: drop it and judge the address.
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const bare = address.split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 4) return forbiddenV4.check(bare, 'ipv4');
  if (family !== 6) return true;
  const groups = parseIpv6Groups(bare.toLowerCase());
  if (groups === undefined) return true;
  const v4 = embeddedIpv4(groups);
  if (v4 !== undefined) return forbiddenV4.check(v4, 'ipv4');
  // Only global unicast (2000::/3) is the public IPv6 Internet.
  if (((groups[0] ?? 0) & 0xe000) !== 0x2000) return true;
  return forbiddenV6.check(bare, 'ipv6');
}

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Names that by definition (RFC 6761) resolve to loopback, refused without asking DNS. */
function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Validates a configured webhook URL. The address check here covers IP literals (after the
 * WHATWG parser has normalised tricks such as http://2130706433/ or http://0x7f.0.0.1/ to
 * 127.0.0.1) and localhost; hostnames are checked again on every delivery after resolution.
 */
export function validateWebhookUrl(raw: string, options: { allowPrivateNetworks?: boolean } = {}): WebhookUrlCheck {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'The URL is required.' };
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    return { ok: false, reason: `The URL may not be longer than ${MAX_WEBHOOK_URL_LENGTH} characters.` };
  }
  if (raw.trim() !== raw || /[\s\p{Cc}]/u.test(raw)) {
    return { ok: false, reason: 'The URL may not contain spaces or control characters.' };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'The URL is not valid.' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'The URL must use http or https.' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'The URL may not contain credentials.' };
  }
  if (url.hostname === '') return { ok: false, reason: 'The URL must have a host.' };
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) {
    return { ok: false, reason: `The URL may not be longer than ${MAX_WEBHOOK_URL_LENGTH} characters.` };
  }
  if (options.allowPrivateNetworks !== true) {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isLoopbackName(host) || (isIP(host) !== 0 && isForbiddenAddress(host))) {
      return { ok: false, reason: 'The URL points to a private or reserved network address.' };
    }
  }
  return { ok: true, url };
}
