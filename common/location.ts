/**
 * The location block of a report: where the laptop is, as fingerprints a fleet can compare but an
 * outsider cannot reverse.
 *
 * Raw identifiers (the default gateway's MAC address, the Wi-Fi BSSID and SSID, the local subnet)
 * never leave the agent's probe: it replaces each with HMAC-SHA-256 under the fleet key from the
 * policy (`location.fleetKey`), over `telltale-location-v1\n<kind>\n<normalized value>`. Two laptops
 * of one fleet behind the same router therefore carry the same gateway hash; without the key the hash
 * says nothing (a MAC address has only 2^46 values, so an unkeyed hash would be trivially reversed).
 *
 * The collector compares hashes for equality only (collector/location/), and adds what it sees
 * itself: the egress address and its ASN and country.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Signals hashed with the fleet key; each names a field of the block (`${kind}Hash`). */
export const LOCATION_HASH_KINDS = ['gateway', 'bssid', 'ssid', 'subnet'] as const;
export type LocationHashKind = (typeof LOCATION_HASH_KINDS)[number];

/** The label every location hash is domain-separated with; a new scheme takes a new label. */
export const LOCATION_HASH_LABEL = 'telltale-location-v1';

/** What carries the default route. */
export const INTERFACE_KINDS = ['wired', 'wifi', 'tunnel', 'cellular', 'other', 'unknown'] as const;
export type InterfaceKind = (typeof INTERFACE_KINDS)[number];

const LocationHashSchema = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const LocationBlockSchema = Type.Object(
  {
    /** HMAC of the default gateway's MAC address (the router the laptop sits behind). */
    gatewayHash: Type.Optional(LocationHashSchema),
    /** HMAC of the Wi-Fi access point's BSSID. */
    bssidHash: Type.Optional(LocationHashSchema),
    /** HMAC of the Wi-Fi network name. */
    ssidHash: Type.Optional(LocationHashSchema),
    /** HMAC of the default interface's subnet in CIDR form (e.g. 192.168.1.0/24). */
    subnetHash: Type.Optional(LocationHashSchema),
    /** IANA time-zone name of the OS, e.g. "America/Chicago". */
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
    /** Offset of local time from UTC in minutes (east positive), when the report was made. */
    utcOffsetMinutes: Type.Integer({ minimum: -900, maximum: 900 }),
    /** Whether the default route leaves through a tunnel interface (tun, wg, utun, ppp, tap, ...). */
    defaultRouteTunnel: Type.Boolean(),
    interfaceKind: Type.Union(INTERFACE_KINDS.map((kind) => Type.Literal(kind))),
    /** Signals the OS would not give, in plain words (e.g. "bssid: macOS location permission not granted"). */
    unavailable: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 16 }),
  },
  { additionalProperties: false },
);
export type LocationBlock = Static<typeof LocationBlockSchema>;

/** The block's field carrying `kind`'s hash. */
export function hashField(kind: LocationHashKind): 'gatewayHash' | 'bssidHash' | 'ssidHash' | 'subnetHash' {
  return `${kind}Hash`;
}

/**
 * A MAC address or BSSID as lowercase colon-separated two-digit octets, or null when `text` is not
 * one. Accepts the spellings the OS tools print: `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`
 * (Windows), `a:b:c:d:e:f` (macOS `arp` drops leading zeros), `aabb.ccdd.eeff`.
 * The all-zero and broadcast addresses are not a device (an incomplete ARP entry) and give null.
 */
export function normalizeMac(text: string): string | null {
  const trimmed = text.trim().toLowerCase();
  let octets: string[];
  if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(trimmed)) {
    octets = trimmed.replace(/\./g, '').match(/../g) ?? [];
  } else {
    octets = trimmed.split(/[:-]/);
    if (octets.length !== 6 || octets.some((octet) => !/^[0-9a-f]{1,2}$/.test(octet))) return null;
    octets = octets.map((octet) => octet.padStart(2, '0'));
  }
  const mac = octets.join(':');
  if (mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff') return null;
  return mac;
}

/** The IPv4 network of `address` with a `prefix`-bit mask, in CIDR form, or null for a bad input. */
export function ipv4Subnet(address: string, prefix: number): string | null {
  const value = ipv4ToNumber(address);
  if (value === null || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return null;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return `${numberToIpv4((value & mask) >>> 0)}/${prefix}`;
}

/** A dotted IPv4 address as an unsigned 32-bit number, or null. */
export function ipv4ToNumber(address: string): number | null {
  const parts = address.trim().split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return null;
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** An unsigned 32-bit number as a dotted IPv4 address. */
export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The prefix length of a dotted netmask (255.255.255.0 → 24), or null when it is not contiguous. */
export function netmaskPrefix(netmask: string): number | null {
  const value = ipv4ToNumber(netmask);
  if (value === null) return null;
  const inverted = ~value >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return null;
  return 32 - Math.log2(inverted + 1);
}

/** Interface-name prefixes of tunnels on Linux, macOS and Windows adapters' names. */
const TUNNEL_NAME = /^(tun|tap|wg|utun|ipsec|ppp|gpd|zt|tailscale|nordlynx|proton|astrill|vpn|wireguard|openvpn)/i;

/** Whether an interface name (or Windows adapter description) is a tunnel's. */
export function isTunnelInterfaceName(name: string): boolean {
  return TUNNEL_NAME.test(name.trim()) || /\b(tap-windows|wintun|wireguard|openvpn|vpn|astrill|tunnel)\b/i.test(name);
}

/** One location signal as the transparency view explains it to the employee. */
export interface LocationSignalWords {
  readonly signal: string;
  readonly itLearns: string;
  readonly itCannotLearn: string;
}

/** The location signals in plain words, for the transparency view (what is sent and what it reveals). */
export const LOCATION_SIGNALS_IN_WORDS: readonly LocationSignalWords[] = [
  {
    signal: "Your network router's identity, scrambled",
    itLearns: 'whether other company laptops sit behind the same router',
    itCannotLearn: 'which router it is, its maker or where it is',
  },
  {
    signal: "Your Wi-Fi access point's and network name's identity, scrambled",
    itLearns: 'whether other company laptops use the same Wi-Fi',
    itCannotLearn: 'the network name or the access point',
  },
  {
    signal: 'Your local network range, scrambled',
    itLearns: 'whether other company laptops share it',
    itCannotLearn: 'the addresses on your network',
  },
  {
    signal: 'Your time zone, and whether your connection goes through a VPN or tunnel',
    itLearns: 'the time zone name and that a VPN is in use',
    itCannotLearn: 'which sites you visit through it',
  },
  {
    signal: 'The internet address your reports arrive from (seen by the IT server, not sent by this laptop)',
    itLearns: 'your provider and country, and whether it is a hosting or VPN network',
    itCannotLearn: 'your street address',
  },
];
