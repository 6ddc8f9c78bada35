/**
 * Windows location readers over `route print -4`, `arp -a` and `netsh wlan show interfaces`
 * (English output; other display languages keep the layout, and the parsers key on the layout
 * and on address shapes rather than on translated labels where they can).
 */
import { normalizeMac } from '../../common/location';
import type { DefaultRoute, Neighbour, WifiLink } from './raw-location';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The IPv4 default route of `route print` (0.0.0.0 mask 0.0.0.0, lowest metric). Its interface is
 * the local address of the interface (Windows prints addresses, not names, in this table).
 */
export function parseRoutePrint(text: string): DefaultRoute | null {
  let best: { route: DefaultRoute; metric: number } | null = null;
  let inActive = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^IPv4 /i.test(line.trim())) inActive = false;
    if (/^Active Routes:/i.test(line.trim())) {
      inActive = true;
      continue;
    }
    if (/^Persistent Routes:/i.test(line.trim()) || /^IPv6 /i.test(line.trim())) inActive = false;
    if (!inActive) continue;
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 5 || fields[0] !== '0.0.0.0' || fields[1] !== '0.0.0.0') continue;
    const [, , gateway, iface, metric] = fields as [string, string, string, string, string];
    if (!IPV4.test(iface)) continue;
    const route = { gateway: IPV4.test(gateway) ? gateway : null, interface: iface };
    if (best === null || Number(metric) < best.metric) best = { route, metric: Number(metric) };
  }
  return best?.route ?? null;
}

/** The on-link subnet route of the interface with local address `localAddress`, in CIDR form. */
export function parseRoutePrintSubnet(text: string, localAddress: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 5 || fields[3] !== localAddress || !/^on-link$/i.test(fields[2] ?? '')) continue;
    const [destination, netmask] = fields as [string, string];
    if (netmask === '255.255.255.255' || destination.startsWith('224.') || destination === '0.0.0.0') continue;
    const prefix = maskPrefix(netmask);
    if (prefix !== null) return `${destination}/${prefix}`;
  }
  return null;
}

/** Dynamic and static entries of `arp -a`, each tagged with its interface's local address. */
export function parseArpA(text: string): Neighbour[] {
  const entries: Neighbour[] = [];
  let iface: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\S.*?:\s+(\d{1,3}(?:\.\d{1,3}){3})\s+---\s+0x[0-9a-f]+/i.exec(line);
    if (header) {
      iface = header[1] ?? null;
      continue;
    }
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2 || !IPV4.test(fields[0] ?? '')) continue;
    const mac = normalizeMac(fields[1] ?? '');
    if (mac === null) continue;
    entries.push({ address: fields[0]!, mac, interface: iface });
  }
  return entries;
}

/**
 * The first connected interface of `netsh wlan show interfaces`. Newer builds print "AP BSSID"
 * beside the adapter's own "Physical address"; both spellings of the access point's are read.
 */
export function parseNetshWlanInterfaces(text: string): WifiLink {
  const blocks: Record<string, string>[] = [];
  let current: Record<string, string> | null = null;
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s+([^:]+?)\s*:\s(.*)$/.exec(line);
    if (!match) continue;
    const label = match[1]!.trim().toLowerCase();
    const value = match[2]!.trim();
    if (label === 'name') {
      current = {};
      blocks.push(current);
    }
    if (current && !(label in current)) current[label] = value;
  }
  for (const block of blocks) {
    if (!/^connected$/i.test(block.state ?? '')) continue;
    const bssid = block['ap bssid'] ?? block.bssid ?? null;
    return { interface: block.name ?? null, ssid: block.ssid ?? null, bssid: bssid === null ? null : normalizeMac(bssid), connected: true };
  }
  return { interface: null, ssid: null, bssid: null, connected: false };
}

function maskPrefix(netmask: string): number | null {
  const parts = netmask.split('.').map(Number);
  if (parts.length !== 4) return null;
  const value = parts.reduce((sum, part) => sum * 256 + part, 0);
  const inverted = ~value >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return null;
  return 32 - Math.log2(inverted + 1);
}
