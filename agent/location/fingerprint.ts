/**
 * Fleet-keyed location fingerprints: the only place raw location identifiers become hashes.
 */
import crypto from 'node:crypto';
import { LOCATION_HASH_LABEL, normalizeMac, type LocationBlock, type LocationHashKind } from '../../common/location';
import type { RawLocation } from './raw-location';

/**
 * HMAC-SHA-256 of one location identifier under the fleet key, lowercase hex. MACs and BSSIDs are
 * normalized first (every OS spells them differently), so the same router gives the same hash on
 * Windows, macOS and Linux.
 */
export function locationHash(fleetKey: string, kind: LocationHashKind, value: string): string {
  const normalized = kind === 'gateway' || kind === 'bssid' ? (normalizeMac(value) ?? value.trim().toLowerCase()) : value;
  return crypto.createHmac('sha256', fleetKey).update(`${LOCATION_HASH_LABEL}\n${kind}\n${normalized}`, 'utf8').digest('hex');
}

/** The report's location block from what the probe read; raw values go no further than this call. */
export function toLocationBlock(raw: RawLocation, fleetKey: string, now: Date, timezone: string | undefined): LocationBlock {
  const hash = (kind: LocationHashKind, value: string | null) => (value === null || value === '' ? undefined : locationHash(fleetKey, kind, value));
  const gatewayHash = hash('gateway', raw.gatewayMac);
  const bssidHash = hash('bssid', raw.bssid);
  const ssidHash = hash('ssid', raw.ssid);
  const subnetHash = hash('subnet', raw.subnet);
  return {
    ...(gatewayHash ? { gatewayHash } : {}),
    ...(bssidHash ? { bssidHash } : {}),
    ...(ssidHash ? { ssidHash } : {}),
    ...(subnetHash ? { subnetHash } : {}),
    ...(timezone ? { timezone: timezone.slice(0, 64) } : {}),
    utcOffsetMinutes: -now.getTimezoneOffset(),
    defaultRouteTunnel: raw.defaultRouteTunnel,
    interfaceKind: raw.interfaceKind,
    unavailable: raw.unavailable.slice(0, 16).map((reason) => reason.slice(0, 200)),
  };
}
