/**
 * macOS location readers over `route -n get default`, `arp -an`, and the Wi-Fi tools: `airport -I`
 * (removed in macOS 14.4) and `wdutil info` (needs root). Since macOS 14 the BSSID and SSID are shown
 * only to processes with Location Services permission; the tools then print nothing or
 * "<redacted>", which the parsers report as unavailable rather than as a value.
 */
import { normalizeMac } from '../../common/location';
import type { DefaultRoute, Neighbour, WifiLink } from './raw-location';

/** `route -n get default`: "gateway: 192.168.1.1" and "interface: en0" lines. */
export function parseRouteGetDefault(text: string): DefaultRoute | null {
  const iface = /^\s*interface:\s*(\S+)/m.exec(text)?.[1];
  if (!iface) return null;
  const gateway = /^\s*gateway:\s*(\d{1,3}(?:\.\d{1,3}){3})\s*$/m.exec(text)?.[1] ?? null;
  return { interface: iface, gateway };
}

/** The default route in `netstat -rn` (first "default" line of the Internet table), for when `route` is unavailable. */
export function parseNetstatRnDefault(text: string): DefaultRoute | null {
  let inInternet = false;
  for (const line of text.split('\n')) {
    if (/^Internet:/.test(line)) inInternet = true;
    else if (/^Internet6:/.test(line)) inInternet = false;
    if (!inInternet) continue;
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'default') continue;
    const netif = fields.find((field, index) => index >= 3 && /^[a-z]+\d+$/.test(field));
    if (!netif) continue;
    return { gateway: /^\d{1,3}(\.\d{1,3}){3}$/.test(fields[1] ?? '') ? fields[1]! : null, interface: netif };
  }
  return null;
}

/** `arp -a` / `arp -an` lines: "host (192.168.1.1) at 0:11:22:33:44:55 on en0 ifscope [ethernet]". */
export function parseDarwinArp(text: string): Neighbour[] {
  const entries: Neighbour[] = [];
  for (const line of text.split('\n')) {
    const match = /\((\d{1,3}(?:\.\d{1,3}){3})\) at (\S+) on (\S+)/.exec(line);
    if (!match) continue;
    const mac = normalizeMac(match[2]!);
    if (mac === null) continue;
    entries.push({ address: match[1]!, mac, interface: match[3]! });
  }
  return entries;
}

/** `airport -I` or `wdutil info`: "BSSID: ..." and "SSID: ..." lines; a redacted or empty value is null. */
export function parseAirportInfo(text: string): WifiLink {
  const value = (label: string): string | null => {
    const raw = new RegExp(`^[ \\t]*${label}[ \\t]*:[ \\t]*(.*?)[ \\t]*$`, 'm').exec(text)?.[1];
    if (raw === undefined || raw === '' || /redacted|none/i.test(raw)) return null;
    return raw;
  };
  const bssidText = value('BSSID');
  const ssid = value('SSID');
  const state = /^\s*state\s*:\s*(\S+)/m.exec(text)?.[1];
  const bssid = bssidText === null ? null : normalizeMac(bssidText);
  return { interface: null, ssid, bssid, connected: state === 'running' || bssid !== null || ssid !== null };
}
