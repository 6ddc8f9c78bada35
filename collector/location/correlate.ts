/**
 * Location correlation, run for the stored reports of each batch inside the ingest transaction.
 *
 * The report's location block (agent hashes) and the egress the collector saw update the device's
 * row in device_locations. Then the device's cluster is found incrementally: a breadth-first walk
 * from the device over the signals that link devices (gateway hash, BSSID hash, egress address;
 * each an indexed equality lookup limited to devices seen within the window), skipping signals IT
 * approved as a shared place. A cluster whose devices carry at least `minDevices` different
 * hostnames is a possible laptop farm: every member gets a `possible-laptop-farm` finding listing
 * the members and the shared signals. Clusters grow, merge (the oldest id survives), shrink and
 * close as reports arrive; a device that leaves takes its finding's closure with it. Findings are
 * rewritten only when membership or signals change, and a report whose signals repeat its device's
 * last ones skips the walk (recordLocations), so a steady fleet costs one read per batch.
 *
 * The same pass opens, updates or closes the device's `unexpected-egress` finding: an egress
 * country other than the expected one (per device, else fleet-wide), or a hosting/VPN ASN.
 */
import type { CollectorFindingKind } from '../../common/findings';
import type { LocationBlock } from '../../common/location';
import { assertNever } from '../../common/result';
import { reserve } from '../storage/counters';
import { findDevicesByIds } from '../storage/devices';
import { closeFinding, findOpenFindingByKey, openOrUpdateCollectorFinding, type NewFinding } from '../storage/findings';
import {
  clustersOfDevices,
  closeCluster,
  devicesSharing,
  expectedCountry,
  findCluster,
  findDeviceLocation,
  findDeviceLocations,
  insertCluster,
  listOpenClusters,
  isApprovedPlace,
  locationSettingsVersion,
  touchDeviceLocations,
  LINK_KINDS,
  setMembers,
  updateCluster,
  upsertDeviceLocation,
  type DeviceLocationRow,
  type LinkKind,
} from '../storage/locations';
import type { Queryable, SqlDatabase } from '../storage/sql';
import type { Egress } from './egress';

export const FARM_KIND: CollectorFindingKind = 'possible-laptop-farm';
export const EGRESS_KIND: CollectorFindingKind = 'unexpected-egress';
const FINDING_CURSOR = 'finding_cursor';

export interface CorrelationSettings {
  /** A device's signals link it to others for this long after its last report. */
  readonly windowMs: number;
  /** Distinct hostnames a cluster needs to be a possible farm. */
  readonly minDevices: number;
  /** The walk stops here: a bound on one report's cost when a huge shared place is not yet approved. */
  readonly maxClusterDevices: number;
}

export const DEFAULT_CORRELATION: CorrelationSettings = { windowMs: 24 * 3_600_000, minDevices: 3, maxClusterDevices: 2000 };

/** One signal value shared by several devices of a cluster. */
export interface SharedSignal {
  readonly kind: LinkKind;
  readonly value: string;
  readonly deviceIds: readonly string[];
}

/** A connected set of devices and the signals that connect them. */
export interface Component {
  readonly deviceIds: readonly string[];
  readonly signals: readonly SharedSignal[];
}

/** One stored report's location block and the egress its delivery came from. */
export interface LocationDelivery {
  readonly deviceId: string;
  readonly location: LocationBlock | undefined;
  readonly egress: Egress | null;
  /** When the collector received it. */
  readonly now: number;
}

/** Every field of a location row that correlation or the egress finding reads, besides the time. */
const SIGNAL_FIELDS = {
  gatewayHash: true,
  bssidHash: true,
  ssidHash: true,
  subnetHash: true,
  timezone: true,
  utcOffsetMinutes: true,
  defaultRouteTunnel: true,
  interfaceKind: true,
  egressIp: true,
  egressAsn: true,
  egressOrg: true,
  egressCountry: true,
  egressHosting: true,
} as const satisfies Record<Exclude<keyof DeviceLocationRow, 'deviceId' | 'seenAt' | 'settledVersion'>, true>;
const SIGNAL_KEYS = Object.keys(SIGNAL_FIELDS) as (keyof typeof SIGNAL_FIELDS)[];

function sameSignals(a: DeviceLocationRow, b: DeviceLocationRow): boolean {
  return SIGNAL_KEYS.every((key) => a[key] === b[key]);
}

/** Record one report's location and egress for `deviceId`, then re-evaluate its cluster and egress finding. */
export async function recordLocation(
  tx: Queryable,
  deviceId: string,
  location: LocationBlock | undefined,
  egress: Egress | null,
  now: number,
  settings: CorrelationSettings,
): Promise<void> {
  await recordLocations(tx, [{ deviceId, location, egress, now }], settings);
}

/**
 * Record the locations of a batch of stored reports, in order. A device's cluster and egress
 * finding are re-settled only when something they depend on moved: its signals, its return into
 * the window, or IT's location settings (their version is stored with the row it settled). A report
 * that repeats what its device last sent, as nearly all do, only moves the device's last-seen time,
 * written for the whole batch at the end. Other devices ageing out of the window is the sweep's job
 * (sweepStaleClusters), as before.
 */
export async function recordLocations(tx: Queryable, deliveries: readonly LocationDelivery[], settings: CorrelationSettings): Promise<void> {
  if (deliveries.length === 0) return;
  const version = await locationSettingsVersion(tx);
  const known = new Map<string, DeviceLocationRow>();
  for (const row of await findDeviceLocations(tx, [...new Set(deliveries.map((delivery) => delivery.deviceId))])) known.set(row.deviceId, row);
  const seen = new Map<string, number>();
  for (const { deviceId, location, egress, now } of deliveries) {
    const previous = known.get(deviceId);
    if (location === undefined && egress === null && previous === undefined) continue;
    const row: DeviceLocationRow = {
      deviceId,
      gatewayHash: location ? (location.gatewayHash ?? null) : (previous?.gatewayHash ?? null),
      bssidHash: location ? (location.bssidHash ?? null) : (previous?.bssidHash ?? null),
      ssidHash: location ? (location.ssidHash ?? null) : (previous?.ssidHash ?? null),
      subnetHash: location ? (location.subnetHash ?? null) : (previous?.subnetHash ?? null),
      timezone: location ? (location.timezone ?? null) : (previous?.timezone ?? null),
      utcOffsetMinutes: location ? location.utcOffsetMinutes : (previous?.utcOffsetMinutes ?? null),
      defaultRouteTunnel: location ? location.defaultRouteTunnel : (previous?.defaultRouteTunnel ?? false),
      interfaceKind: location ? location.interfaceKind : (previous?.interfaceKind ?? null),
      egressIp: egress ? egress.ip : (previous?.egressIp ?? null),
      egressAsn: egress ? egress.asn : (previous?.egressAsn ?? null),
      egressOrg: egress ? egress.organization : (previous?.egressOrg ?? null),
      egressCountry: egress ? egress.country : (previous?.egressCountry ?? null),
      egressHosting: egress ? egress.hosting : (previous?.egressHosting ?? false),
      seenAt: now,
      settledVersion: version,
    };
    if (previous !== undefined && previous.settledVersion === version && previous.seenAt >= now - settings.windowMs && sameSignals(previous, row)) {
      seen.set(deviceId, Math.max(seen.get(deviceId) ?? now, now));
      known.set(deviceId, { ...previous, seenAt: Math.max(previous.seenAt, now) });
      continue;
    }
    await upsertDeviceLocation(tx, row);
    known.set(deviceId, row);
    await evaluateEgress(tx, row, now);
    await correlate(tx, deviceId, now, settings);
  }
  await touchDeviceLocations(
    tx,
    [...seen].map(([deviceId, seenAt]) => ({ deviceId, seenAt })),
  );
}

/** Re-evaluate the cluster of `deviceId`, and of whatever cluster it belonged to before. */
export async function correlate(tx: Queryable, deviceId: string, now: number, settings: CorrelationSettings): Promise<void> {
  const pending = [deviceId];
  const covered = new Set<string>();
  // Each pass settles one component; orphans of closed or merged clusters are settled in turn.
  for (let passes = 0; pending.length > 0 && passes < 64; passes++) {
    const start = pending.pop()!;
    if (covered.has(start)) continue;
    const component = await findComponent(tx, start, now - settings.windowMs, settings.maxClusterDevices);
    for (const id of component.deviceIds) covered.add(id);
    const orphans = await applyComponent(tx, component, now, settings);
    pending.push(...orphans.filter((id) => !covered.has(id)));
  }
}

/** The devices connected to `start` by shared, unapproved signals seen since `since`. */
export async function findComponent(tx: Queryable, start: string, since: number, maxDevices: number): Promise<Component> {
  const members = new Set<string>([start]);
  const queue = [start];
  const signals = new Map<string, { kind: LinkKind; value: string; deviceIds: Set<string> }>();
  const approved = new Map<string, boolean>();
  while (queue.length > 0 && members.size < maxDevices) {
    const id = queue.shift()!;
    const row = await findDeviceLocation(tx, id);
    // A device not seen within the window links nobody, itself included.
    if (!row || row.seenAt < since) continue;
    for (const kind of LINK_KINDS) {
      const value = linkValue(row, kind);
      if (value === null) continue;
      const signalKey = `${kind}\n${value}`;
      if (signals.has(signalKey)) continue;
      if (!approved.has(signalKey)) approved.set(signalKey, await isApprovedPlace(tx, kind, value));
      if (approved.get(signalKey)) continue;
      const sharing = await devicesSharing(tx, kind, value, since, maxDevices);
      signals.set(signalKey, { kind, value, deviceIds: new Set(sharing) });
      for (const other of sharing) {
        if (members.has(other) || members.size >= maxDevices) continue;
        members.add(other);
        queue.push(other);
      }
    }
  }
  const deviceIds = [...members].sort();
  const shared = [...signals.values()]
    .filter((signal) => signal.deviceIds.size >= 2)
    .map((signal) => ({ kind: signal.kind, value: signal.value, deviceIds: [...signal.deviceIds].filter((id) => members.has(id)).sort() }))
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.value.localeCompare(b.value));
  return { deviceIds, signals: shared };
}

function linkValue(row: DeviceLocationRow, kind: LinkKind): string | null {
  switch (kind) {
    case 'gateway':
      return row.gatewayHash;
    case 'bssid':
      return row.bssidHash;
    case 'egress-ip':
      return row.egressIp;
    default:
      return assertNever(kind, 'link kind');
  }
}

/**
 * Make the stored clusters agree with one component. Returns devices that lost their cluster and
 * are not in the component (members of a cluster that split or merged away), to settle next.
 */
async function applyComponent(tx: Queryable, component: Component, now: number, settings: CorrelationSettings): Promise<string[]> {
  const devices = await findDevicesByIds(tx, component.deviceIds);
  const hostnames = new Map(devices.map((device) => [device.id, device.hostname]));
  const distinctHosts = new Set(devices.map((device) => device.hostname.trim().toLowerCase())).size;
  const qualifies = component.deviceIds.length >= 2 && distinctHosts >= settings.minDevices;
  const existing = [...new Set((await clustersOfDevices(tx, component.deviceIds)).values())].sort((a, b) => a - b);
  const survivor = qualifies ? existing[0] : undefined;
  const orphans: string[] = [];
  const inComponent = new Set(component.deviceIds);
  for (const clusterId of existing) {
    if (clusterId === survivor) continue;
    const cluster = await findCluster(tx, clusterId);
    const formerMembers = cluster ? (JSON.parse(cluster.members) as string[]) : [];
    await closeCluster(tx, clusterId, now);
    for (const id of formerMembers) {
      await closeFarmFinding(tx, id, clusterId, now);
      if (!inComponent.has(id)) orphans.push(id);
    }
  }
  if (!qualifies) return orphans;
  const members = JSON.stringify(component.deviceIds);
  const signals = JSON.stringify(component.signals);
  let clusterId = survivor;
  let formerMembers: string[] = [];
  if (clusterId === undefined) {
    clusterId = await insertCluster(tx, now, members, signals, component.deviceIds.length);
  } else {
    const cluster = await findCluster(tx, clusterId);
    if (cluster && cluster.members === members && cluster.signals === signals) return orphans;
    formerMembers = cluster ? (JSON.parse(cluster.members) as string[]) : [];
    await updateCluster(tx, clusterId, now, members, signals, component.deviceIds.length);
  }
  await setMembers(tx, clusterId, component.deviceIds);
  for (const id of formerMembers) {
    if (inComponent.has(id)) continue;
    await closeFarmFinding(tx, id, clusterId, now);
    orphans.push(id);
  }
  const cluster = await findCluster(tx, clusterId);
  const evidence = farmEvidence(clusterId, component, hostnames, cluster?.openedAt ?? now, settings);
  for (const id of component.deviceIds) {
    await openOrUpdateCollectorFinding(tx, farmFinding(id, clusterId, component, evidence, await reserve(tx, FINDING_CURSOR, 1), now));
  }
  return orphans;
}

/** The key of a device's finding for one cluster. */
export function farmKey(clusterId: number): string {
  return `${FARM_KIND}:${clusterId}`;
}

const MAX_LISTED_DEVICES = 200;

function farmEvidence(clusterId: number, component: Component, hostnames: ReadonlyMap<string, string>, since: number, settings: CorrelationSettings): string {
  return JSON.stringify({
    clusterId,
    deviceCount: component.deviceIds.length,
    since,
    windowHours: settings.windowMs / 3_600_000,
    devices: component.deviceIds.slice(0, MAX_LISTED_DEVICES).map((deviceId) => ({ deviceId, hostname: hostnames.get(deviceId) ?? '' })),
    sharedSignals: component.signals.map((signal) => ({ kind: signal.kind, value: signal.value, deviceCount: signal.deviceIds.length })),
  });
}

function describeSignals(signals: readonly SharedSignal[]): string {
  const words: Record<LinkKind, string> = { gateway: 'network router', bssid: 'Wi-Fi access point', 'egress-ip': 'internet address' };
  const kinds = [...new Set(signals.map((signal) => words[signal.kind]))];
  return kinds.length === 0 ? 'a shared network' : `the same ${kinds.join(', ')}`;
}

function farmFinding(deviceId: string, clusterId: number, component: Component, evidence: string, cursor: number, now: number): NewFinding {
  const count = component.deviceIds.length;
  return {
    cursor,
    deviceId,
    source: 'collector',
    key: farmKey(clusterId),
    kind: FARM_KIND,
    severity: 'high',
    title: `Possible laptop farm: ${count} laptops of different people in one place`,
    explanation: `This laptop and ${count - 1} others enrolled to different people share ${describeSignals(component.signals)} within the same day. Many company laptops in one house is the mark of a laptop farm; IT can approve a real shared office.`,
    evidence,
    firstSeenAt: now,
    lastSeenAt: now,
    closedAt: null,
    reportSeq: null,
    createdAt: now,
    updatedAt: now,
  };
}

async function closeFarmFinding(tx: Queryable, deviceId: string, clusterId: number, now: number): Promise<void> {
  const open = await findOpenFindingByKey(tx, deviceId, farmKey(clusterId));
  if (open) await closeFinding(tx, open.id, await reserve(tx, FINDING_CURSOR, 1), now);
}

/** Open, update or close the device's unexpected-egress finding from its latest egress. */
async function evaluateEgress(tx: Queryable, row: DeviceLocationRow, now: number): Promise<void> {
  const expected = await expectedCountry(tx, row.deviceId);
  const reasons: string[] = [];
  if (expected !== null && row.egressCountry !== null && row.egressCountry !== expected) reasons.push('country');
  if (row.egressHosting) reasons.push('hosting');
  const open = await findOpenFindingByKey(tx, row.deviceId, EGRESS_KIND);
  if (reasons.length === 0) {
    if (open) await closeFinding(tx, open.id, await reserve(tx, FINDING_CURSOR, 1), now);
    return;
  }
  const evidence = JSON.stringify({
    egressIp: row.egressIp,
    asn: row.egressAsn,
    organization: row.egressOrg,
    country: row.egressCountry,
    expectedCountry: expected,
    hostingOrVpn: row.egressHosting,
    reasons,
  });
  if (open && open.evidence === evidence) return;
  const where = row.egressCountry ?? 'an unknown country';
  const title = reasons.includes('country') ? `Connects from ${where}, expected ${expected}` : 'Connects through a hosting or VPN network';
  const explanation = reasons.includes('hosting')
    ? `The collector saw this laptop arrive from ${row.egressOrg ?? 'a network'} (AS${row.egressAsn ?? '?'}), a hosting or VPN provider: a VPN may be hiding where the laptop is.`
    : `The collector saw this laptop arrive from ${where}; IT expects ${expected}.`;
  await openOrUpdateCollectorFinding(tx, {
    cursor: await reserve(tx, FINDING_CURSOR, 1),
    deviceId: row.deviceId,
    source: 'collector',
    key: EGRESS_KIND,
    kind: EGRESS_KIND,
    severity: 'medium',
    title,
    explanation,
    evidence,
    firstSeenAt: now,
    lastSeenAt: now,
    closedAt: null,
    reportSeq: null,
    createdAt: now,
    updatedAt: now,
  });
}

/**
 * Shrink or close clusters whose members stopped reporting: a member not seen within the window
 * no longer links anyone. Run on a timer (the app's schedule), since a silent device sends no
 * report that would settle its cluster. Returns how many clusters were re-settled.
 */
export async function sweepStaleClusters(database: SqlDatabase, now: number, settings: CorrelationSettings): Promise<number> {
  const since = now - settings.windowMs;
  return database.transaction(async (tx) => {
    let settled = 0;
    for (const cluster of await listOpenClusters(tx, 100_000)) {
      const members = JSON.parse(cluster.members) as string[];
      const locations = await findDeviceLocations(tx, members);
      if (locations.length === members.length && locations.every((row) => row.seenAt >= since)) continue;
      settled += 1;
      const fresh = locations.filter((row) => row.seenAt >= since).map((row) => row.deviceId);
      if (fresh.length > 0) {
        await correlate(tx, fresh[0]!, now, settings);
        continue;
      }
      await closeCluster(tx, cluster.id, now);
      for (const id of members) await closeFarmFinding(tx, id, cluster.id, now);
    }
    return settled;
  });
}
