/**
 * Linux location readers: the kernel's tables under /proc and /sys, and `iw`/`nmcli` for Wi-Fi
 * when installed. /proc/net and /sys/class/net are per network namespace, so an agent started in a
 * namespace sees that namespace's gateway (the integration test relies on it).
 */
import { normalizeMac } from '../../common/location';
import type { DefaultRoute, Neighbour, WifiLink } from './raw-location';

/** The IPv4 default route in /proc/net/route (lowest metric), or null. Addresses are little-endian hex. */
export function parseProcNetRoute(text: string): DefaultRoute | null {
  let best: { route: DefaultRoute; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const [iface, destination, gateway, flags, , , metric, mask] = fields as [string, string, string, string, string, string, string, string];
    const up = (parseInt(flags, 16) & 0x1) !== 0;
    if (!up || destination !== '00000000' || mask !== '00000000') continue;
    const route = { interface: iface, gateway: gateway === '00000000' ? null : littleEndianHexToIpv4(gateway) };
    const value = Number(metric);
    if (best === null || value < best.metric) best = { route, metric: value };
  }
  return best?.route ?? null;
}

/** The subnet route of `iface` in /proc/net/route (a non-default, gateway-less route), in CIDR form. */
export function parseProcNetRouteSubnet(text: string, iface: string): string | null {
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8 || fields[0] !== iface) continue;
    const [, destination, gateway, , , , , mask] = fields as [string, string, string, string, string, string, string, string];
    if (destination === '00000000' || gateway !== '00000000' || mask === 'FFFFFFFF') continue;
    const prefix = popcount(parseInt(mask, 16));
    return `${littleEndianHexToIpv4(destination)}/${prefix}`;
  }
  return null;
}

/** Complete entries of /proc/net/arp (flags 0x2 set), MACs normalized. */
export function parseProcNetArp(text: string): Neighbour[] {
  const entries: Neighbour[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [address, , flags, hwAddress, , device] = fields as [string, string, string, string, string, string];
    const mac = normalizeMac(hwAddress);
    if ((parseInt(flags, 16) & 0x2) === 0 || mac === null) continue;
    entries.push({ address, mac, interface: device });
  }
  return entries;
}

/** `iw dev IFACE link`: "Connected to aa:bb:.. (on wlan0)" and "SSID: name"; "Not connected." otherwise. */
export function parseIwLink(text: string): WifiLink {
  const connected = /^Connected to ([0-9a-fA-F:]{17})(?: \(on (\S+)\))?/m.exec(text);
  const ssid = /^\s*SSID: (.*)$/m.exec(text);
  return {
    interface: connected?.[2] ?? null,
    bssid: connected?.[1] ? normalizeMac(connected[1]) : null,
    ssid: ssid?.[1] ?? null,
    connected: connected !== null,
  };
}

/**
 * `nmcli -t -f ACTIVE,BSSID,SSID dev wifi`: terse lines, `:` inside values escaped as `\:`.
 * Returns the active access point.
 */
export function parseNmcliWifi(text: string): WifiLink {
  for (const line of text.split('\n')) {
    const fields = splitTerse(line);
    if (fields.length < 3 || fields[0] !== 'yes') continue;
    return { interface: null, bssid: normalizeMac(fields[1] ?? ''), ssid: fields.slice(2).join(':') || null, connected: true };
  }
  return { interface: null, bssid: null, ssid: null, connected: false };
}

function splitTerse(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (char === '\\' && index + 1 < line.length) current += line[++index];
    else if (char === ':') {
      fields.push(current);
      current = '';
    } else current += char;
  }
  fields.push(current);
  return fields;
}

function littleEndianHexToIpv4(hex: string): string {
  const value = parseInt(hex, 16);
  return [0, 8, 16, 24].map((shift) => (value >>> shift) & 255).join('.');
}

function popcount(value: number): number {
  let count = 0;
  for (let bits = value >>> 0; bits !== 0; bits >>>= 1) count += bits & 1;
  return count;
}
