/**
 * What the collector makes of a report's source address: whether it counts as an egress address at
 * all (private and loopback addresses are the load balancer's or a lab's unless `privateEgress`),
 * its ASN and country, and whether the ASN belongs to a hosting or VPN provider, where a laptop at
 * home has no business being.
 */
import { isIPv4 } from 'node:net';
import { stripMappedV4, type AsnDatabase } from './asn-database';

/** What one report's delivery says about where the laptop leaves the internet. */
export interface Egress {
  readonly ip: string;
  readonly asn: number | null;
  readonly organization: string | null;
  readonly country: string | null;
  /** The ASN is a hosting, cloud or VPN provider's. */
  readonly hosting: boolean;
}

/**
 * ASNs of hosting, cloud and VPN-exit providers. Consumer VPNs (Astrill, NordVPN, ExpressVPN,
 * Surfshark, ProtonVPN...) exit mostly through these networks, M247, Datacamp/CDN77 and
 * similar; the organisation-name patterns below catch the rest.
 */
export const HOSTING_ASNS: ReadonlySet<number> = new Set([
  16509, 14618, 8987, // Amazon
  15169, 396982, 19527, // Google
  8075, 8068, // Microsoft
  14061, // DigitalOcean
  16276, // OVH
  24940, 213230, // Hetzner
  63949, // Akamai Connected Cloud (Linode)
  20473, // Vultr (Choopa)
  9009, // M247 (many VPN exits)
  60068, // Datacamp / CDN77 (many VPN exits)
  212238, // Datacamp
  51167, // Contabo
  60781, 28753, 16265, // Leaseweb
  62240, // Clouvider
  136787, // TEFINCOM (NordVPN)
  209854, // Cyberzone (Surfshark)
  13335, // Cloudflare (WARP exits)
  46562, // Performive
  40676, // Psychz
  36352, // ColoCrossing
  53667, // FranTech (BuyVM)
  206092, 198605, // IPXO, AVAST (VPN)
]);

const HOSTING_NAME = /\b(hosting|servers|datacenter|data center|cloud|vps|colo|colocation|vpn|dedicated|m247|datacamp|leaseweb|hetzner|ovh|digitalocean|linode|vultr|choopa|contabo|amazon|google|microsoft|alibaba|tencent|oracle)\b/i;

/** Whether an ASN (or its organisation name) is a hosting/VPN provider's. */
export function isHostingAsn(asn: number | null, organization: string | null): boolean {
  if (asn !== null && HOSTING_ASNS.has(asn)) return true;
  return organization !== null && HOSTING_NAME.test(organization);
}

/** Private, loopback, link-local, CGNAT and unique-local addresses: not a public egress. */
export function isPrivateAddress(ip: string): boolean {
  const address = stripMappedV4(ip);
  if (isIPv4(address)) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127) || a === 0;
  }
  const lower = address.toLowerCase();
  return lower === '::1' || lower.startsWith('fe80:') || lower.startsWith('fc') || lower.startsWith('fd');
}

/** The egress of a delivery from `ip`, or null when the address does not count as one. */
export function classifyEgress(ip: string, database: AsnDatabase, privateEgress: boolean): Egress | null {
  const address = stripMappedV4(ip);
  if (!privateEgress && isPrivateAddress(address)) return null;
  const record = database.lookup(address);
  return {
    ip: address,
    asn: record?.asn ?? null,
    organization: record?.organization ?? null,
    country: record?.country ?? null,
    hosting: isHostingAsn(record?.asn ?? null, record?.organization ?? null),
  };
}
