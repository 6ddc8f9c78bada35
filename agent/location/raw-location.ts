/**
 * What a per-OS probe reads before anything is hashed. Lives only inside the probe: the raw MAC,
 * BSSID and SSID in it are turned into fleet-keyed hashes by `toLocationBlock` (fingerprint.ts) and
 * this object is dropped. Never log, store or emit it.
 */
import type { InterfaceKind } from '../../common/location';

export interface RawLocation {
  /** Name of the interface carrying the IPv4 default route (eth0, en0, "Wi-Fi"...). */
  readonly defaultInterface: string | null;
  /** IPv4 address of the default gateway. */
  readonly gatewayAddress: string | null;
  /** The gateway's MAC address as the neighbour table has it (normalized later). */
  readonly gatewayMac: string | null;
  readonly bssid: string | null;
  readonly ssid: string | null;
  /** The default interface's IPv4 network in CIDR form. */
  readonly subnet: string | null;
  readonly interfaceKind: InterfaceKind;
  readonly defaultRouteTunnel: boolean;
  /** Signals the OS would not give, in plain words. */
  readonly unavailable: readonly string[];
}

/** The IPv4 default route as a routing table shows it. */
export interface DefaultRoute {
  readonly gateway: string | null;
  /** Interface name (Linux, macOS) or the local address of the interface (Windows `route print`). */
  readonly interface: string;
}

/** One neighbour-table (ARP) entry. */
export interface Neighbour {
  readonly address: string;
  readonly mac: string;
  /** Interface name, or on Windows the interface's local address. */
  readonly interface: string | null;
}

/** The Wi-Fi association as the OS tool prints it. */
export interface WifiLink {
  readonly interface: string | null;
  readonly ssid: string | null;
  readonly bssid: string | null;
  readonly connected: boolean;
}
