/**
 * Reading the network location on this OS: one function per platform behind one chooser, each
 * taking its OS seams (a command runner, a file reader, the interface list) so unit tests replay
 * recorded outputs. Every program is optional: a missing tool becomes an "unavailable" reason.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import { ipv4Subnet, isTunnelInterfaceName, netmaskPrefix, type InterfaceKind } from '../../common/location';
import { execFileRunner, type CommandRunner } from '../detect/command-runner';
import { parseAirportInfo, parseDarwinArp, parseNetstatRnDefault, parseRouteGetDefault } from './darwin';
import { parseIwLink, parseNmcliWifi, parseProcNetArp, parseProcNetRoute, parseProcNetRouteSubnet } from './linux';
import type { DefaultRoute, Neighbour, RawLocation, WifiLink } from './raw-location';
import { parseArpA, parseNetshWlanInterfaces, parseRoutePrint, parseRoutePrintSubnet } from './win32';

/** The OS seams of a location probe. */
export interface LocationSeams {
  readonly run: CommandRunner;
  /** Reads a text file; rejects when it does not exist. */
  readonly readFile: (file: string) => Promise<string>;
  readonly interfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export const systemLocationSeams: LocationSeams = {
  run: execFileRunner,
  readFile: (file) => fs.readFile(file, 'utf8'),
  interfaces: () => os.networkInterfaces(),
};

/** What the probe reads on `platform`; throws on a platform without a probe. */
export async function probeLocation(platform: NodeJS.Platform, seams: LocationSeams = systemLocationSeams): Promise<RawLocation> {
  switch (platform) {
    case 'linux':
      return probeLinux(seams);
    case 'win32':
      return probeWin32(seams);
    case 'darwin':
      return probeDarwin(seams);
    default:
      throw new Error(`No location probe for platform ${platform}`);
  }
}

async function optional(run: () => Promise<string>): Promise<string | null> {
  try {
    return await run();
  } catch {
    return null;
  }
}

async function command(seams: LocationSeams, file: string, args: readonly string[]): Promise<string | null> {
  return optional(async () => {
    const result = await seams.run(file, args, { timeoutMs: 10_000 });
    if (result.exitCode !== 0) throw new Error(`${file} exited ${result.exitCode}`);
    return result.stdout;
  });
}

/** The CIDR subnet of `iface` (a name) from the interface list. */
function subnetOfInterface(seams: LocationSeams, iface: string): string | null {
  const entry = seams.interfaces()[iface]?.find((address) => address.family === 'IPv4' && !address.internal);
  if (!entry) return null;
  const prefix = entry.cidr ? Number(entry.cidr.split('/')[1]) : netmaskPrefix(entry.netmask);
  return prefix === null ? null : ipv4Subnet(entry.address, prefix);
}

function gatewayMacOf(route: DefaultRoute | null, neighbours: readonly Neighbour[]): string | null {
  if (route?.gateway == null) return null;
  return neighbours.find((entry) => entry.address === route.gateway)?.mac ?? null;
}

async function probeLinux(seams: LocationSeams): Promise<RawLocation> {
  const unavailable: string[] = [];
  const routeText = await optional(() => seams.readFile('/proc/net/route'));
  const route = routeText === null ? null : parseProcNetRoute(routeText);
  if (route === null) return noRoute(unavailable);
  const arpText = await optional(() => seams.readFile('/proc/net/arp'));
  const gatewayMac = gatewayMacOf(route, arpText === null ? [] : parseProcNetArp(arpText));
  if (gatewayMac === null) unavailable.push('gateway: no default gateway in the neighbour table yet');
  const iface = route.interface;
  const isWireless = (await optional(() => seams.readFile(`/sys/class/net/${iface}/uevent`)))?.includes('DEVTYPE=wlan') === true
    || (await optional(() => seams.readFile(`/sys/class/net/${iface}/wireless/`))) !== null;
  const tunFlags = await optional(() => seams.readFile(`/sys/class/net/${iface}/tun_flags`));
  const devtype = /DEVTYPE=(\S+)/.exec((await optional(() => seams.readFile(`/sys/class/net/${iface}/uevent`))) ?? '')?.[1] ?? '';
  const tunnel = tunFlags !== null || /^(wireguard|ppp|vxlan|gre|ipip)$/.test(devtype) || isTunnelInterfaceName(iface);
  let wifi: WifiLink = { interface: null, ssid: null, bssid: null, connected: false };
  if (isWireless) {
    const iw = await command(seams, 'iw', ['dev', iface, 'link']);
    if (iw !== null) wifi = parseIwLink(iw);
    else {
      const nmcli = await command(seams, 'nmcli', ['-t', '-f', 'ACTIVE,BSSID,SSID', 'dev', 'wifi']);
      if (nmcli !== null) wifi = parseNmcliWifi(nmcli);
      else unavailable.push('wifi: neither iw nor nmcli is installed');
    }
  }
  const subnet = subnetOfInterface(seams, iface) ?? (routeText === null ? null : parseProcNetRouteSubnet(routeText, iface));
  return finish({ route, gatewayMac, wifi, subnet, kind: tunnel ? 'tunnel' : isWireless ? 'wifi' : devtype === 'wwan' ? 'cellular' : 'wired', tunnel, unavailable });
}

async function probeWin32(seams: LocationSeams): Promise<RawLocation> {
  const unavailable: string[] = [];
  const routeText = await command(seams, 'route', ['print', '-4']);
  const route = routeText === null ? null : parseRoutePrint(routeText);
  if (route === null) return noRoute(unavailable);
  const arp = await command(seams, 'arp', ['-a']);
  const gatewayMac = gatewayMacOf(route, arp === null ? [] : parseArpA(arp).filter((entry) => entry.interface === null || entry.interface === route.interface));
  if (gatewayMac === null) unavailable.push('gateway: no default gateway in the ARP table yet');
  const netsh = await command(seams, 'netsh', ['wlan', 'show', 'interfaces']);
  const wifi = netsh === null ? { interface: null, ssid: null, bssid: null, connected: false } : parseNetshWlanInterfaces(netsh);
  // route print names interfaces by local address: match it to the adapter that holds it.
  const adapter = Object.entries(seams.interfaces()).find(([, addresses]) => addresses?.some((address) => address.address === route.interface))?.[0] ?? null;
  const onWifi = wifi.connected && (adapter === null || wifi.interface === null || adapter === wifi.interface);
  const tunnel = adapter !== null && isTunnelInterfaceName(adapter);
  const subnet = (adapter === null ? null : subnetOfInterface(seams, adapter)) ?? (routeText === null ? null : parseRoutePrintSubnet(routeText, route.interface));
  return finish({ route, gatewayMac, wifi: onWifi ? wifi : { ...wifi, connected: false }, subnet, kind: tunnel ? 'tunnel' : onWifi ? 'wifi' : adapter === null ? 'unknown' : 'wired', tunnel, unavailable });
}

async function probeDarwin(seams: LocationSeams): Promise<RawLocation> {
  const unavailable: string[] = [];
  const routeText = await command(seams, 'route', ['-n', 'get', 'default']);
  let route = routeText === null ? null : parseRouteGetDefault(routeText);
  if (route === null) {
    const netstat = await command(seams, 'netstat', ['-rn', '-f', 'inet']);
    route = netstat === null ? null : parseNetstatRnDefault(netstat);
  }
  if (route === null) return noRoute(unavailable);
  const arp = route.gateway === null ? null : await command(seams, 'arp', ['-n', route.gateway]);
  const gatewayMac = gatewayMacOf(route, arp === null ? [] : parseDarwinArp(arp));
  if (gatewayMac === null) unavailable.push('gateway: no default gateway in the ARP table yet');
  const tunnel = isTunnelInterfaceName(route.interface);
  const airport = await command(seams, '/System/Library/PrivateFrameworks/Apple80211.framework/Versions/Current/Resources/airport', ['-I']);
  let wifi: WifiLink = airport === null ? { interface: null, ssid: null, bssid: null, connected: false } : parseAirportInfo(airport);
  if (airport === null) {
    const wdutil = await command(seams, 'wdutil', ['info']);
    if (wdutil !== null) wifi = parseAirportInfo(wdutil);
  }
  if (wifi.connected && wifi.bssid === null) unavailable.push('bssid: macOS shows it only to apps with Location Services permission');
  if (wifi.connected && wifi.ssid === null) unavailable.push('ssid: macOS shows it only to apps with Location Services permission');
  const subnet = subnetOfInterface(seams, route.interface);
  const kind: InterfaceKind = tunnel ? 'tunnel' : wifi.connected ? 'wifi' : 'wired';
  return finish({ route, gatewayMac, wifi, subnet, kind, tunnel, unavailable });
}

function noRoute(unavailable: string[]): RawLocation {
  return {
    defaultInterface: null,
    gatewayAddress: null,
    gatewayMac: null,
    bssid: null,
    ssid: null,
    subnet: null,
    interfaceKind: 'unknown',
    defaultRouteTunnel: false,
    unavailable: [...unavailable, 'network: no IPv4 default route'],
  };
}

function finish(parts: {
  route: DefaultRoute;
  gatewayMac: string | null;
  wifi: WifiLink;
  subnet: string | null;
  kind: InterfaceKind;
  tunnel: boolean;
  unavailable: string[];
}): RawLocation {
  return {
    defaultInterface: parts.route.interface,
    gatewayAddress: parts.route.gateway,
    gatewayMac: parts.gatewayMac,
    bssid: parts.wifi.connected ? parts.wifi.bssid : null,
    ssid: parts.wifi.connected ? parts.wifi.ssid : null,
    subnet: parts.subnet,
    interfaceKind: parts.kind,
    defaultRouteTunnel: parts.tunnel,
    unavailable: parts.unavailable,
  };
}
